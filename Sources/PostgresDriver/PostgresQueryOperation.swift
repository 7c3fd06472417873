import CLibPQ
import TandemAsync

/// One SQL statement for the async engine (driver `"postgres"`), e.g. the body of
/// `avp_db_query("SELECT a,b FROM t WHERE u=$rU", "$avp(a);$avp(b)")` compiled to
/// `sql: "SELECT a,b FROM t WHERE u=$1"`, `parameters: [<value of $rU>]`.
///
/// Values are always bound parameters (`PQsendQueryParams`, text format), never spliced into the SQL,
/// so a value cannot widen the statement; one statement per call.
///
/// - native: runs on a pooled connection of the worker's ``PostgresPool`` (queued when all are busy,
///   rc -4 when the queue is full). ``cancel()`` abandons it: the pool cancels or drops the connection.
/// - blocking (`offload`/`sync`): `PQexecParams` on a connection of the pool's ``PostgresBlockingPool``,
///   bounded by `connect_timeout` and `statement_timeout` derived from the job timeout.
///
/// Result: rc 1 with ≥ 1 row, -2 with no row (commands included), -1 on error (output `error`, and
/// `sqlstate` when the server sent one), -3 on timeout. Outputs `col0`, `col1`… (see
/// ``outputName(column:)``) hold one `.list` entry per row (NULL → `nil`); `rows` the row count.
public final class PostgresQueryOperation: AsyncOperation {
    public let driver = "postgres"
    public let supportedPaths: AsyncPaths = .all
    /// The pool of the worker that runs the native form (its settings also serve the blocking form).
    public let pool: PostgresPool
    /// The statement, with `$1…$n` placeholders.
    public let sql: String
    /// Values for `$1…$n` (`nil` = NULL).
    public let parameters: [String?]

    private let request = PooledRequest()

    /// Creates the operation (nothing runs until it is started).
    public init(pool: PostgresPool, sql: String, parameters: [String?] = []) {
        self.pool = pool
        self.sql = sql
        self.parameters = parameters
    }

    /// The output name of result column `column` (0-based): `"col0"`, `"col1"`…
    public static func outputName(column: Int) -> String {
        column < columnNames.count ? columnNames[column] : "col\(column)"
    }

    /// The names of the first columns, made once (a result builds one per column per query).
    private static let columnNames: [String] = (0..<32).map { "col\($0)" }

    public func start(_ context: NativeContext) {
        request.start(context, driver: "postgres", queueFullReason: { [pool] in pool.queueFullReason }) { completion in
            pool.submit(sql: sql, parameters: parameters, completion: completion)
        }
    }

    public func cancel() {
        request.cancel(abandon: pool.abandon)
    }

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let blocking = pool.blocking
        let sql = sql
        let parameters = parameters
        return { blocking.run(sql: sql, parameters: parameters, timeoutMs: timeoutMs) }
    }
}
