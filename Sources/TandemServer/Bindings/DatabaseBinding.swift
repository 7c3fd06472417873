import TandemAsync
import TandemScript

/// One database a `db_url` names, served by a ``DatabaseDriver``.
protocol DatabaseBackend: Sendable {
    /// The operation running `query` (SQL with `$1…$n`, or a JSON command) with `parameters` bound,
    /// for database `id` on `worker`. Its outputs are one `.list` per column, named
    /// `PostgresQueryOperation.outputName(column:)`.
    func queryOperation(id: String, query: String, parameters: [String?], worker: WorkerServices) -> any AsyncOperation
    /// Called once on each worker's thread when it starts: open database `id`'s minimum connections in
    /// the background on the worker's reactor (never blocking; a failed connect is logged and the pool
    /// connects again on demand).
    func warmUp(id: String, worker: WorkerServices)
}

extension DatabaseBackend {
    /// Nothing to open at start (the drivers whose pools open on demand only).
    func warmUp(id: String, worker: WorkerServices) {}
}

/// A kind of database behind avp_db_query/sql_query: the `db_url` schemes it serves and how it makes a
/// backend of one URL (once, at start).
struct DatabaseDriver: Sendable {
    /// URL prefixes it serves (`postgres://`).
    let schemes: [String]
    /// Driver names its operations run under (async_mode, offload_limit, counters).
    let driverNames: [String]
    /// A backend for a URL. `sharedLimit`: connections of a process-wide client pool, if the driver keeps
    /// one; `callTimeoutMs`: the calls' default timeout (`async_timeout`), for drivers whose library
    /// has timeouts of its own to fit into it. Throws an error whose text goes into the diagnostic.
    let backend: @Sendable (_ url: String, _ sharedLimit: Int, _ callTimeoutMs: UInt64) throws -> any DatabaseBackend
}

/// `avp_db_query(query[, "$avp(a);$avp(b)"[, db_id]])` (avpops) and `sql_query` (sqlops): the query's
/// pseudo-variables are bound parameters; column j of every row goes to the j-th output variable.
/// `$rc`: rows (> 0), -2 none, -1 error, -3 timeout, -4 queue full.
enum DatabaseBinding: DriverBinding {
    /// The database drivers, tried in order for each `db_url`. A new database driver adds itself here.
    static let databaseDrivers: [DatabaseDriver] = [PostgresDatabase.driver, MySQLDatabase.driver, MongoDatabase.driver]

    /// Declared arguments of the database functions; the query's bound values follow them.
    static let declaredArguments = 3

    static var drivers: [String] { databaseDrivers.flatMap { $0.driverNames } }
    static let functions = ["avp_db_query", "sql_query"].map { name in
        FunctionBinding(name, operation: query, deliver: rows)
    }

    /// The driver serving `url`, if any.
    static func driver(for url: String) -> DatabaseDriver? {
        databaseDrivers.first { driver in driver.schemes.contains { url.hasPrefix($0) } }
    }

    private static func query(_ call: HostCallArguments, _ worker: WorkerServices) -> any AsyncOperation {
        let id = AsyncBindings.text(call.values, 2)
        guard let database = worker.settings.databases.database(id: id) else {
            return UnavailableOperation(driver: "postgres")
        }
        return database.backend.queryOperation(id: database.id, query: AsyncBindings.text(call.values, 0) ?? "",
                                               parameters: AsyncBindings.boundValues(call.values, after: declaredArguments),
                                               worker: worker)
    }

    private static func rows(_ result: AsyncResult, _ call: HostCallArguments, _ worker: WorkerServices,
                             _ execution: inout ExecutionContext) {
        for (column, variable) in call.outputs(of: 1).enumerated() {
            AsyncBindings.assignList(result.output("col\(column)"), to: [variable], in: &execution)
        }
    }
}
