import MongoDriver
import TandemAsync
import TandemScript

/// MongoDB databases (`mongodb://`) for avp_db_query: a JSON command on the database's libmongoc client
/// pool, made at load and owned by the server's settings (blocking form only: the offload pool runs it).
/// Values are JSON-escaped into it.
struct MongoDatabase: DatabaseBackend {
    static let driver = DatabaseDriver(schemes: ["mongodb"], driverNames: ["mongodb"]) { url, limit, timeoutMs in
        MongoDatabase(pool: try clientPool(url, limit: limit, callTimeoutMs: timeoutMs))
    }

    let pool: MongoClientPool

    /// A client pool for a MongoDB URL (`mongodb[:group]://host/db[.collection]`) with `limit` connections.
    /// Its server selection timeout fits the calls' default timeout `callTimeoutMs` (`async_timeout`, at
    /// most libmongoc's 3 s; a `serverSelectionTimeoutMS` in the URL wins), so a killed server fails a
    /// call within its timeout.
    static func clientPool(_ url: String, limit: Int, callTimeoutMs: UInt64) throws -> MongoClientPool {
        let selection = MongoPoolConfiguration.serverSelectionTimeout(forCallTimeoutMs: callTimeoutMs)
        return try MongoClientPool(url: MongoURL(url).url,
                                   configuration: MongoPoolConfiguration(maxPoolSize: max(1, limit),
                                                                         serverSelectionTimeoutMs: selection))
    }

    func queryOperation(id: String, query: String, parameters: [String?], worker: WorkerServices) -> any AsyncOperation {
        MongoCommandOperation(pool: pool, json: QueryTemplate.fill(query, values: parameters, escape: MongoJSON.escape))
    }
}

/// `cache_raw_query("mongodb[:group]", json, "$avp(res)")` (cachedb_mongodb): every result document,
/// as JSON text, into the output variable.
enum MongoCacheBinding: DriverBinding {
    static let drivers: [String] = []
    static let functions = [
        FunctionBinding("cache_raw_query", operation: { call, worker in
            guard let pool = worker.settings.databases.cacheMongo else { return UnavailableOperation(driver: "mongodb") }
            let json = QueryTemplate.fill(AsyncBindings.text(call.values, 1) ?? "",
                                          values: AsyncBindings.boundValues(call.values, after: 3),
                                          escape: MongoJSON.escape)
            return MongoRawQueryOperation(pool: pool, json: json)
        }, deliver: { result, call, _, execution in
            AsyncBindings.assignList(result.output("json"), to: call.outputs(of: 2), in: &execution)
        }),
    ]
}
