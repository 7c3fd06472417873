import PostgresDriver
import Reactor
import TandemAsync

/// What one SIP worker owns beyond the proxy core: its part of the async engine and its driver
/// connection pools. Created on the worker thread and only used there.
final class WorkerServices {
    let asyncWorker: AsyncWorker
    let databases: DatabaseConfiguration
    private var postgresPools: [String: PostgresPool] = [:]

    init(asyncWorker: AsyncWorker, databases: DatabaseConfiguration) {
        self.asyncWorker = asyncWorker
        self.databases = databases
    }

    /// This worker's pool for database `id` (the default database when nil), created on first use.
    func postgresPool(id: String?) -> PostgresPool? {
        guard let database = databases.database(id: id), case .postgres(let settings, let blocking) = database.backend else {
            return nil
        }
        if let pool = postgresPools[database.id] { return pool }
        let pool = PostgresPool(settings: settings, reactor: asyncWorker.reactor,
                                configuration: PostgresPoolConfiguration(size: databases.poolSize),
                                blocking: blocking)
        postgresPools[database.id] = pool
        return pool
    }
}
