import Glibc
import TandemAsync

/// Where and how to connect to one MySQL/MariaDB database, parsed from
/// `mysql://user:password@host:port/database` (user, password and database optional, port 3306 by
/// default, `%XX` escapes decoded; `?socket=/path` connects through a Unix socket instead).
///
/// The host is never resolved on a worker loop: `localhost` becomes `127.0.0.1` (the client library would
/// otherwise take it for the default Unix socket), an IP literal is kept, and any other name is resolved
/// **once, here** (at startup).
///
/// ```swift
/// let settings = try MySQLConnectionSettings("mysql://opensips:secret@db.example.net/opensips")
/// ```
public struct MySQLConnectionSettings: Sendable, Equatable {
    /// Numeric host address (empty with a Unix socket).
    public var host: String
    /// TCP port.
    public var port: UInt32
    /// User name (empty: the library's default).
    public var user: String
    /// Password (empty: none).
    public var password: String
    /// Database selected after connecting (empty: none).
    public var database: String
    /// Unix socket path (nil: TCP).
    public var socket: String?

    /// Parses a `mysql://` URL.
    public init(_ url: String) throws(MySQLError) {
        guard url.hasPrefix("mysql://") else { throw MySQLError("URL must start with mysql://") }
        var rest = Substring(url.dropFirst("mysql://".count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        var userInfo: Substring = ""
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
        }
        if let colon = userInfo.firstIndex(of: ":") {
            user = try Self.decode(userInfo[..<colon])
            password = try Self.decode(userInfo[userInfo.index(after: colon)...])
        } else {
            user = try Self.decode(userInfo)
            password = ""
        }
        database = try Self.decode(path)
        var hostText = authority
        port = 3306
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {  // [v6]:port
            hostText = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst()) }
        } else if let colon = authority.lastIndex(of: ":") {
            hostText = authority[..<colon]
            port = try Self.port(authority[authority.index(after: colon)...])
        }
        socket = nil
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            if parts[0] == "socket" { socket = try Self.decode(parts[1]) }
        }
        if socket != nil {
            host = ""
        } else {
            host = try Self.numericAddress(of: hostText.isEmpty ? "localhost" : String(hostText))
        }
    }

    /// `host:port/database` or `socket/database` (for logs and `/stats`; never the credentials).
    public var address: String { "\(socket ?? "\(host):\(port)")/\(database)" }

    private static func port(_ text: Substring) throws(MySQLError) -> UInt32 {
        guard let value = UInt32(text), value > 0, value < 65536 else { throw MySQLError("invalid port '\(text)'") }
        return value
    }

    /// Decodes `%XX` escapes.
    static func decode(_ text: Substring) throws(MySQLError) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                    throw MySQLError("invalid %-escape in URL")
                }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `host` as a numeric address: itself if it is an IP literal, else the first getaddrinfo answer.
    static func numericAddress(of host: String) throws(MySQLError) -> String {
        switch NumericHost.address(of: host) {
        case .success(let address): return address
        case .failure(.unresolved(let reason)): throw MySQLError("cannot resolve host \"\(host)\": \(reason)")
        case .failure(.unformattable): throw MySQLError("cannot format address of \"\(host)\"")
        }
    }
}

extension String {
    /// `nil` for the empty string (the client library's "use the default").
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
