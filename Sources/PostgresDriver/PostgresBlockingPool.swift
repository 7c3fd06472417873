import CLibPQ
import Synchronization
import TandemAsync

/// Blocking libpq connections to one database shared by the offload threads (the `offload`/`sync` form of
/// ``PostgresQueryOperation``). Create one per database and give it to every worker's ``PostgresPool``.
/// A call checks out an idle connection (or connects with `PQconnectdbParams` + `connect_timeout`), sets
/// `statement_timeout` from the job timeout (that round trip also proves a reused connection is alive;
/// a dead one is replaced once), runs `PQexecParams` and checks the connection back in when it is idle.
public final class PostgresBlockingPool: Sendable {
    /// A checked-out or idle connection.
    /// `@unchecked Sendable`: a connection is either in ``idle`` (guarded by the mutex) or owned by exactly
    /// one thread between check-out and check-in; libpq allows a connection to move between threads.
    private struct Connection: @unchecked Sendable {
        let conn: OpaquePointer
    }

    /// Where it connects.
    public let settings: PostgresConnectionSettings
    /// Idle connections kept at most (more are closed after use).
    public let maxIdle: Int
    private let idle = Mutex<[Connection]>([])

    /// Creates an empty pool.
    public init(settings: PostgresConnectionSettings, maxIdle: Int = 8) {
        self.settings = settings
        self.maxIdle = maxIdle
    }

    deinit {
        idle.withLock { connections in
            for connection in connections { PQfinish(connection.conn) }
            connections.removeAll()
        }
    }

    /// Idle connections now.
    public var idleCount: Int { idle.withLock { $0.count } }

    /// Runs one statement (blocking; any thread).
    public func run(sql: String, parameters: [String?], timeoutMs: UInt64) -> AsyncResult {
        let timeout = max(1, timeoutMs)
        var reused = idle.withLock { $0.popLast() }
        while let connection = reused {
            let set = PQexec(connection.conn, "SET statement_timeout = \(timeout)")
            let ok = set.map { PQresultStatus($0) == PGRES_COMMAND_OK } ?? false
            if let set { PQclear(set) }
            if ok { return execute(connection, sql: sql, parameters: parameters) }
            PQfinish(connection.conn)  // dead (server restarted, backend killed): try the next one
            reused = idle.withLock { $0.popLast() }
        }
        var options = settings.value(of: "options") ?? ""
        if !options.isEmpty { options += " " }
        options += "-c statement_timeout=\(timeout)"
        // libpq's connect_timeout is in whole seconds, at least 2.
        let connectTimeout = max(2, (timeoutMs + 999) / 1000)
        let conn = settings.withParameters(extra: [("connect_timeout", String(connectTimeout)), ("options", options)]) {
            keywords, values in PQconnectdbParams(keywords, values, 0)
        }
        guard let conn else { return PostgresPool.errorResult("out of memory") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = trimmedMessage(PQerrorMessage(conn))
            PQfinish(conn)
            return PostgresPool.errorResult(message)
        }
        return execute(Connection(conn: conn), sql: sql, parameters: parameters)
    }

    private func execute(_ connection: Connection, sql: String, parameters: [String?]) -> AsyncResult {
        let conn = connection.conn
        let result = withCStringArray(parameters) { values in
            PQexecParams(conn, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
        }
        var collector = PostgresResultCollector()
        if let result {
            collector.add(result)
            PQclear(result)
        } else {
            collector.fail(trimmedMessage(PQerrorMessage(conn)))
        }
        let reusable = PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE
        let kept = reusable && idle.withLock { connections in
            guard connections.count < maxIdle else { return false }
            connections.append(connection)
            return true
        }
        if !kept { PQfinish(conn) }
        return collector.result()
    }
}
