import PostgresDriver
import TandemAsync

/// PostgreSQL databases (`postgres://`): a non-blocking pool per worker and database; the blocking pool
/// (offload/sync modes) is shared.
struct PostgresDatabase: DatabaseBackend {
    static let driver = DatabaseDriver(schemes: ["postgres://", "postgresql://"], driverNames: ["pg_connect", "postgres"]) { url, _, _ in
        let settings = try PostgresConnectionSettings(url)
        return PostgresDatabase(settings: settings, blocking: PostgresBlockingPool(settings: settings))
    }

    let settings: PostgresConnectionSettings
    let blocking: PostgresBlockingPool

    func queryOperation(id: String, query: String, parameters: [String?], worker: WorkerServices) -> any AsyncOperation {
        let pool = worker.state(PostgresWorkerPools.self).pool(id: id, database: self, worker: worker)
        return PostgresQueryOperation(pool: pool, sql: query, parameters: parameters)
    }

    /// Creates the worker's pool and starts opening its `db_pool_min_size` connections.
    func warmUp(id: String, worker: WorkerServices) {
        worker.state(PostgresWorkerPools.self).pool(id: id, database: self, worker: worker).warmUp()
    }
}

/// One worker's PostgreSQL pools, by database id (created when the worker starts, or on first use).
final class PostgresWorkerPools: WorkerDriverState {
    private var pools: [String: PostgresPool] = [:]

    init(worker: WorkerServices) {}

    func pool(id: String, database: PostgresDatabase, worker: WorkerServices) -> PostgresPool {
        if let pool = pools[id] { return pool }
        let databases = worker.settings.databases
        let settings = database.settings
        // host:port/dbname, never the credentials.
        let address = "\(settings.value(of: "host") ?? "localhost"):\(settings.value(of: "port") ?? "5432")/"
            + (settings.value(of: "dbname") ?? "")
        let pool = PostgresPool(settings: settings, reactor: worker.asyncWorker.reactor,
                                configuration: PostgresPoolConfiguration(size: databases.poolSize,
                                                                         maxQueue: databases.queueSize,
                                                                         pipelineDepth: databases.pipelineDepth,
                                                                         minConnections: databases.poolMinSize,
                                                                         idleTimeoutMs: databases.poolIdleTimeoutMs,
                                                                         preparesStatements: databases.preparedStatements),
                                blocking: database.blocking,
                                health: worker.asyncWorker.backends.health(driver: "postgres", address: address))
        pools[id] = pool
        return pool
    }
}
