import TandemAsync

/// The raw form behind OpenSIPS cachedb_mongodb's `cache_raw_query("mongodb", json, "$avp(res)")`
/// (driver `"mongodb"`): runs the command document `json` like ``MongoCommandOperation`` and returns
/// every resulting document as one relaxed extended JSON string in output `json` (`.list`, one entry per
/// document), plus `rows` (`.int`). rc 1 / -2 / -1 (output `error`) / -3 as for ``MongoCommandOperation``.
public final class MongoRawQueryOperation: AsyncOperation {
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

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let pool = pool
        let json = json
        return { MongoRawQueryOperation.run(json: json, on: pool, timeoutMs: timeoutMs) }
    }

    /// Runs the command now on the calling thread (blocking).
    public static func run(json: String, on pool: MongoClientPool, timeoutMs: UInt64?) -> AsyncResult {
        let started = MongoResultBuilder.nowMs()
        do throws(MongoError) {
            let documents = try MongoCommand(json: json, timeoutMs: timeoutMs).run(on: pool)
            return MongoResultBuilder.json(documents)
        } catch {
            return MongoResultBuilder.failure(error, elapsedMs: MongoResultBuilder.nowMs() - started, pool: pool)
        }
    }
}
