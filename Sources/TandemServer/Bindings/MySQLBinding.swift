import MySQLDriver
import TandemAsync

/// MySQL/MariaDB databases (`mysql://`): a non-blocking pool per worker and database; the blocking pool
/// (offload/sync modes) is shared.
struct MySQLDatabase: DatabaseBackend {
    static let driver = DatabaseDriver(schemes: ["mysql://"], driverNames: ["mysql"]) { url, _, _ in
        let settings = try MySQLConnectionSettings(url)
        return MySQLDatabase(settings: settings, blocking: MySQLBlockingPool(settings: settings))
    }

    let settings: MySQLConnectionSettings
    let blocking: MySQLBlockingPool

    func queryOperation(id: String, query: String, parameters: [String?], worker: WorkerServices) -> any AsyncOperation {
        let pool = worker.state(MySQLWorkerPools.self).pool(id: id, database: self, worker: worker)
        return MySQLQueryOperation(pool: pool, sql: query, parameters: parameters)
    }
}

/// One worker's MySQL pools, by database id (created on first use).
final class MySQLWorkerPools: WorkerDriverState {
    private var pools: [String: MySQLPool] = [:]

    init(worker: WorkerServices) {}

    func pool(id: String, database: MySQLDatabase, worker: WorkerServices) -> MySQLPool {
        if let pool = pools[id] { return pool }
        let databases = worker.settings.databases
        let pool = MySQLPool(settings: database.settings, reactor: worker.asyncWorker.reactor,
                             configuration: MySQLPoolConfiguration(size: databases.poolSize, maxQueue: databases.queueSize),
                             blocking: database.blocking,
                             health: worker.asyncWorker.backends.health(driver: "mysql", address: database.settings.address))
        pools[id] = pool
        return pool
    }
}
