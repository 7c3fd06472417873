import TandemAsync

/// One SQL statement for the async engine (driver `"mysql"`), e.g. the body of
/// `avp_db_query("SELECT a,b FROM t WHERE u='$rU'", "$avp(a);$avp(b)")`, compiled by the script to
/// `SELECT a,b FROM t WHERE u=$1` with the value of `$rU`, and run here as `… WHERE u=?`.
///
/// Values are always bound parameters of a prepared statement, never spliced into the SQL, so a value
/// cannot widen the statement; one statement per call (multi-statements are off).
///
/// - native: runs on a pooled connection of the worker's ``MySQLPool`` (queued when all are busy, rc -4
///   when the queue is full). ``cancel()`` abandons it: the pool kills the statement and closes the
///   connection.
/// - blocking (`offload`/`sync`): a handle of the pool's ``MySQLBlockingPool``, bounded by connect/read
///   timeouts and `max_statement_time` derived from the job timeout.
///
/// Result: rc 1 with ≥ 1 row, -2 with no row (statements without a result set included), -1 on error
/// (outputs `error`, `errno`, `sqlstate`), -3 on timeout. Outputs `col0`, `col1`… hold one `.list` entry
/// per row (NULL → `nil`); `rows` the row count; `affected` for statements without a result set.
public final class MySQLQueryOperation: AsyncOperation {
    public let driver = "mysql"
    public let supportedPaths: AsyncPaths = .all
    /// The pool of the worker that runs the native form (its settings also serve the blocking form).
    public let pool: MySQLPool
    /// The statement (`$n` rewritten to `?`).
    public let statement: MySQLStatementText
    /// Values for `$1…$n` (`nil` = NULL).
    public let values: [String?]

    private let request = PooledRequest()

    /// Creates the operation from the script's compiled SQL (`$1…$n` placeholders).
    public init(pool: MySQLPool, sql: String, parameters: [String?] = []) {
        self.pool = pool
        self.statement = MySQLStatementText(sql)
        self.values = parameters
    }

    /// The output name of result column `column` (0-based): `"col0"`, `"col1"`…
    public static func outputName(column: Int) -> String { "col\(column)" }

    public func start(_ context: NativeContext) {
        request.start(context, driver: "mysql") { completion in pool.submit(statement, values: values, completion: completion) }
    }

    public func cancel() {
        request.cancel(abandon: pool.abandon)
    }

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let blocking = pool.blocking
        let statement = statement
        let values = values
        return { blocking.run(statement, values: values, timeoutMs: timeoutMs) }
    }
}
