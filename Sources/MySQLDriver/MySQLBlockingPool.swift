import CMariaDB
import Glibc
import Synchronization
import TandemAsync

/// Blocking client handles to one database shared by the offload threads (the `offload`/`sync` form of
/// ``MySQLQueryOperation``). Create one per database and give it to every worker's ``MySQLPool``.
/// A call checks out an idle handle (one whose socket shows no close from the server; others are
/// replaced) or connects with `mysql_real_connect` (bounded by connect/read timeouts derived from the job
/// timeout), sets `max_statement_time` from the job timeout when the handle's differs (one round trip,
/// not per call), runs the statement (prepared, with bound parameters, when it has values; statements
/// are cached per handle) and checks the handle back in when it is reusable.
public final class MySQLBlockingPool: Sendable {
    /// A checked-out or idle handle with its prepared statements.
    /// `@unchecked Sendable`: a handle is either in ``idle`` (guarded by the mutex) or owned by exactly one
    /// thread between check-out and check-in; the client library allows a handle to move between threads.
    private final class Handle: @unchecked Sendable {
        let mysql: UnsafeMutablePointer<MYSQL>
        var statements: [String: UnsafeMutablePointer<MYSQL_STMT>] = [:]
        /// The `max_statement_time` set on the session, in ms (0: none yet).
        var limitMs: UInt64 = 0

        /// Whether the server has not closed the idle connection: nothing may be readable on it (a
        /// restarted or killed server leaves an end-of-file or an error packet there).
        var looksAlive: Bool {
            var entry = pollfd(fd: mysql_get_socket(mysql), events: Int16(POLLIN), revents: 0)
            return poll(&entry, 1, 0) == 0
        }

        /// Sets `max_statement_time` to `ms` unless it already is; false if the server did not answer.
        func limit(_ ms: UInt64) -> Bool {
            if limitMs == ms { return true }
            guard mysql_query(mysql, "SET SESSION max_statement_time = \(Double(ms) / 1000)") == 0 else { return false }
            limitMs = ms
            return true
        }

        init(mysql: UnsafeMutablePointer<MYSQL>) { self.mysql = mysql }

        func close() {
            mysql_close(mysql)
            for statement in statements.values { mysql_stmt_close(statement) }  // memory only, after the close
            statements.removeAll()
        }
    }

    /// Where it connects.
    public let settings: MySQLConnectionSettings
    /// Idle handles kept at most (more are closed after use).
    public let maxIdle: Int
    private let idle = Mutex<[Handle]>([])

    /// Creates an empty pool.
    public init(settings: MySQLConnectionSettings, maxIdle: Int = 8) {
        self.settings = settings
        self.maxIdle = maxIdle
    }

    deinit {
        idle.withLock { handles in
            for handle in handles { handle.close() }
            handles.removeAll()
        }
    }

    /// Idle handles now.
    public var idleCount: Int { idle.withLock { $0.count } }

    /// Runs one statement (blocking; any thread). `values` are indexed as the statement's `$1…$n`.
    public func run(_ statement: MySQLStatementText, values: [String?], timeoutMs: UInt64) -> AsyncResult {
        let timeout = max(1, timeoutMs)
        var reused = idle.withLock { $0.popLast() }
        while let handle = reused {
            if handle.looksAlive && handle.limit(timeout) {
                return execute(handle, statement, values: statement.arrange(values))
            }
            handle.close()  // dead (server restarted, connection killed): try the next one
            reused = idle.withLock { $0.popLast() }
        }
        let seconds = UInt32(max(1, (timeout + 999) / 1000)) + 1
        guard let mysql = MySQLHandle.make(settings, nonBlocking: false, connectTimeoutMs: timeout,
                                           readTimeoutSeconds: seconds) else {
            return MySQLPool.errorResult("out of memory")
        }
        guard mysql_real_connect(mysql, settings.socket == nil ? settings.host : nil, settings.user.nilIfEmpty,
                                 settings.password.nilIfEmpty, settings.database.nilIfEmpty, settings.port,
                                 settings.socket, 0) != nil else {
            let message = mysql_error(mysql).map { String(cString: $0) } ?? "connect failed"
            mysql_close(mysql)
            return MySQLPool.errorResult(message)
        }
        let handle = Handle(mysql: mysql)
        guard handle.limit(timeout) else {
            var collector = MySQLResultCollector()
            collector.fail(connection: mysql)
            handle.close()
            return collector.result()
        }
        return execute(handle, statement, values: statement.arrange(values))
    }

    private func execute(_ handle: Handle, _ statement: MySQLStatementText, values: [String?]) -> AsyncResult {
        var collector = MySQLResultCollector()
        if statement.parameterOrder.isEmpty {
            runText(handle.mysql, statement.sql, into: &collector)
        } else {
            runPrepared(handle, statement.sql, values: values, into: &collector)
        }
        let reusable = !collector.connectionBroken && !MySQLHandle.inTransaction(handle.mysql)
        let kept = reusable && idle.withLock { handles in
            guard handles.count < maxIdle else { return false }
            handles.append(handle)
            return true
        }
        if !kept { handle.close() }
        return collector.result()
    }

    private func runText(_ mysql: UnsafeMutablePointer<MYSQL>, _ sql: String, into collector: inout MySQLResultCollector) {
        guard mysql_real_query(mysql, sql, UInt(sql.utf8.count)) == 0 else { return collector.fail(connection: mysql) }
        if mysql_field_count(mysql) == 0 { return collector.setAffected(mysql_affected_rows(mysql)) }
        guard let result = mysql_store_result(mysql) else { return collector.fail(connection: mysql) }
        collector.read(result: result)
        mysql_free_result(result)
    }

    private func runPrepared(_ handle: Handle, _ sql: String, values: [String?], into collector: inout MySQLResultCollector) {
        var stmt = handle.statements[sql]
        if stmt == nil {
            guard let fresh = mysql_stmt_init(handle.mysql) else { return collector.fail("out of memory") }
            guard mysql_stmt_prepare(fresh, sql, UInt(sql.utf8.count)) == 0 else {
                collector.fail(statement: fresh)
                mysql_stmt_close(fresh)
                return
            }
            if handle.statements.count < 128 { handle.statements[sql] = fresh }
            stmt = fresh
        }
        guard let stmt else { return }
        defer { if handle.statements[sql] == nil { mysql_stmt_close(stmt) } }
        let markers = Int(mysql_stmt_param_count(stmt))
        guard markers == values.count else {
            return collector.fail("statement has \(markers) parameter markers for \(values.count) values")
        }
        let parameters = MySQLParameterBuffers(values)
        guard mysql_stmt_bind_param(stmt, parameters.binds) == 0, mysql_stmt_execute(stmt) == 0 else {
            return collector.fail(statement: stmt)
        }
        if mysql_stmt_field_count(stmt) == 0 { return collector.setAffected(mysql_stmt_affected_rows(stmt)) }
        guard mysql_stmt_store_result(stmt) == 0 else { return collector.fail(statement: stmt) }
        collector.read(statement: stmt)
        mysql_stmt_free_result(stmt)
    }
}
