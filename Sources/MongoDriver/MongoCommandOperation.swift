import TandemAsync

/// One MongoDB command for the async engine (driver `"mongodb"`), e.g. what
/// `avp_db_query` with a `mongodb://` `db_url` compiles to:
/// `{"find": "subscriber", "filter": {"username": "<escaped $fU>"}, "projection": {"credit": 1, "_id": 0}}`.
/// Script values must be put into the JSON with ``MongoJSON/escape(_:)`` (between quotes) so a value
/// stays one string and cannot add keys or operators.
///
/// Blocking form only (libmongoc has no async API): it runs on the offload pool (per-driver limit and
/// bounded queue of `"mongodb"`, rc -4 when full) or inline in `sync` mode, on a client of the shared
/// ``MongoClientPool``. Read commands get `maxTimeMS` = the job timeout; the pool's `socketTimeoutMS`
/// bounds how long a call can hang on a silent server.
///
/// Result: rc 1 with ≥ 1 document, -2 with none, -1 on error (output `error`), -3 when the server or
/// socket timed out. Outputs `col0`, `col1`… (``outputName(column:)``): one `.list` per field, one entry
/// per document; the fields are the keys of the `find` inclusion projection in order (implicit `_id`
/// excluded), else the keys of the first document. Dotted projection keys (`"a.b"`) read nested values.
/// Strings are raw, numbers plain, null/absent → `nil`, nested documents/arrays as JSON. Also `keys`
/// (`.list` of the field names) and `rows` (`.int`). See ``MongoCommand`` for which documents a command
/// returns (a `find`'s cursor, `findAndModify`'s `value`, else the reply itself, e.g. `{"n": 1}`).
public final class MongoCommandOperation: AsyncOperation {
    public let driver = "mongodb"
    public let supportedPaths: AsyncPaths = .blocking
    /// The shared pool the command runs on.
    public let pool: MongoClientPool
    /// The command document (JSON).
    public let json: String

    /// Creates the operation (nothing runs until the engine starts it).
    public init(pool: MongoClientPool, json: String) {
        self.pool = pool
        self.json = json
    }

    /// Output set (`.int(1)`) on a failed call of this or ``MongoRawQueryOperation`` when no server could
    /// be reached (backend health; not given to the script).
    public static let unreachableOutput = "unreachable"

    /// The output name of field `column` (0-based): `"col0"`, `"col1"`…
    public static func outputName(column: Int) -> String { "col\(column)" }

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let pool = pool
        let json = json
        return { MongoCommandOperation.run(json: json, on: pool, timeoutMs: timeoutMs) }
    }

    /// Runs the command now on the calling thread (blocking) — what the offload closure does.
    public static func run(json: String, on pool: MongoClientPool, timeoutMs: UInt64?) -> AsyncResult {
        let started = MongoResultBuilder.nowMs()
        do throws(MongoError) {
            let command = try MongoCommand(json: json, timeoutMs: timeoutMs)
            let documents = try command.run(on: pool)
            return MongoResultBuilder.columns(documents, projectionKeys: command.projectionKeys)
        } catch {
            return MongoResultBuilder.failure(error, elapsedMs: MongoResultBuilder.nowMs() - started, pool: pool)
        }
    }
}
