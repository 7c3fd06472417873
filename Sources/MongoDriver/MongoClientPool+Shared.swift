import Synchronization

/// Process-wide registry: one ``MongoClientPool`` per URL, created on first use.
private let sharedPools = Mutex<[String: MongoClientPool]>([:])

extension MongoClientPool {
    /// The process's pool for `url`, created with `configuration` on first use (later calls with the
    /// same URL return the same pool and ignore `configuration`). Thread-safe.
    /// - Throws: ``MongoError`` if the URL is invalid (nothing is cached then).
    public static func shared(url: String, configuration: MongoPoolConfiguration = MongoPoolConfiguration())
        throws(MongoError) -> MongoClientPool {
        let result: Result<MongoClientPool, MongoError> = sharedPools.withLock { pools in
            if let pool = pools[url] { return .success(pool) }
            do throws(MongoError) {
                let pool = try MongoClientPool(url: url, configuration: configuration)
                pools[url] = pool
                return .success(pool)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
