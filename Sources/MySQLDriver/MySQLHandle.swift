import CMariaDB

/// Creating and configuring a client handle for ``MySQLConnectionSettings`` (both forms).
enum MySQLHandle {
    /// Sent by the library after every connect: `||` concatenates (the script's query compiler writes
    /// `'%' || $n || '%'` for a variable inside a longer quoted literal), as in standard SQL.
    static let initCommand = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')"

    /// A new handle with the driver's options: TCP unless a socket is given, utf8mb4, the init command,
    /// the connect timeout (whole seconds, at least 1), and the non-blocking API when `nonBlocking`.
    /// `readTimeoutSeconds` (blocking form only) bounds each read.
    static func make(_ settings: MySQLConnectionSettings, nonBlocking: Bool, connectTimeoutMs: UInt64,
                     readTimeoutSeconds: UInt32? = nil) -> UnsafeMutablePointer<MYSQL>? {
        guard let mysql = mysql_init(nil) else { return nil }
        if nonBlocking { mysql_options(mysql, MYSQL_OPT_NONBLOCK, nil) }
        var proto = settings.socket == nil ? MYSQL_PROTOCOL_TCP.rawValue : MYSQL_PROTOCOL_SOCKET.rawValue
        mysql_options(mysql, MYSQL_OPT_PROTOCOL, &proto)
        var seconds = UInt32(max(1, (connectTimeoutMs + 999) / 1000))
        mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &seconds)
        if var read = readTimeoutSeconds {
            mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &read)
            mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &read)
        }
        mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        mysql_options(mysql, MYSQL_INIT_COMMAND, initCommand)
        return mysql
    }

    /// Whether the connection sits inside a transaction (it is then not handed out again).
    static func inTransaction(_ mysql: UnsafeMutablePointer<MYSQL>) -> Bool {
        mysql.pointee.server_status & UInt32(SERVER_STATUS_IN_TRANS) != 0
    }
}
