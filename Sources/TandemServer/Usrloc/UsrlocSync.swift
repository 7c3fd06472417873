import Logging
import Reactor
import TandemAsync
import TandemProxy

/// usrloc's work with the `location` table outside the registrar calls: the load at start
/// (write-through, write-back), and the timer every `timer_interval` seconds on worker 0, which deletes
/// expired rows and writes the AORs changed in memory (write-back, and `remove()` in every database
/// mode). The timer's statements run on the worker's pool like any async call: it never blocks.
enum UsrlocSync {
    /// The table the load and the timer work on (the `save("location")` of almost every script).
    static let table = "location"

    private static func database(_ services: WorkerServices) -> DatabaseConfiguration.Database? {
        guard let database = services.settings.databases.database(id: UsrlocBinding.databaseID),
              database.id == UsrlocBinding.databaseID else { return nil }
        return database
    }

    /// Deletes the expired rows, then (write-through, write-back) puts every live row into memory. Runs
    /// before the workers start, on `services` of the starting thread (the blocking form is fine then).
    static func load(core: ProxyCore, services: WorkerServices, locationNow: UInt64, logger: Logger) {
        let registrar = core.settings.registrar
        guard registrar.mode.usesDatabase, let database = database(services) else { return }
        let clocks = UsrlocSQL.Clocks(location: locationNow)
        let (purge, purgeParameters) = UsrlocSQL.purge(table: table, clocks: clocks)
        _ = services.asyncWorker.runSynchronously(
            database.backend.queryOperation(id: database.id, query: purge, parameters: purgeParameters, worker: services))
        guard registrar.mode.loadsAtStart else { return }
        let (sql, parameters) = UsrlocSQL.selectAll(table: table, clocks: clocks)
        let result = services.asyncWorker.runSynchronously(
            database.backend.queryOperation(id: database.id, query: sql, parameters: parameters, worker: services))
        guard UsrlocBinding.succeeded(result.rc) else {
            logger.error("usrloc: cannot load the location table; starting with no contacts",
                         metadata: ["rc": "\(result.rc)"])
            return
        }
        var users: [String?] = [], domains: [String?] = []
        if case .list(let values)? = result.output("col0") { users = values }
        if case .list(let values)? = result.output("col1") { domains = values }
        var byAOR: [String: [LocationContact]] = [:]
        for (i, contact) in UsrlocSQL.rows(result, offset: 2, clocks: clocks).enumerated() {
            guard let contact, i < users.count, let user = users[i] else { continue }
            let domain = i < domains.count ? domains[i] : nil
            let aor = registrar.useDomain && domain?.isEmpty == false ? "\(user)@\(domain!)" : user
            byAOR[aor, default: []].append(contact)
        }
        for (aor, contacts) in byAOR { core.location.replace(aor, with: UsrlocSQL.deduplicated(contacts)) }
        logger.info("usrloc: location table loaded", metadata: [
            "aors": "\(byAOR.count)", "contacts": "\(byAOR.values.reduce(0) { $0 + $1.count })",
        ])
    }

    /// Schedules the usrloc timer on `worker` (worker 0).
    static func startTimer(core: ProxyCore, services: WorkerServices, worker: WorkerContext) {
        guard core.settings.registrar.mode.usesDatabase, database(services) != nil else { return }
        schedule(core: core, services: services, worker: worker)
    }

    private static func schedule(core: ProxyCore, services: WorkerServices, worker: WorkerContext) {
        let interval = UInt64(max(1, core.settings.registrar.timerInterval)) * 1000
        _ = worker.reactor.schedule(afterMilliseconds: interval) { [weak worker] in
            guard let worker else { return }
            run(core: core, services: services, now: core.locationSeconds(worker)) { operation, completion in
                services.asyncWorker.start(operation, completion: completion)
            }
            schedule(core: core, services: services, worker: worker)
        }
    }

    /// One timer run: purge the expired rows, write every changed AOR (a failed write stays changed).
    /// `start` runs an operation (on the worker's engine, or synchronously at shutdown).
    static func run(core: ProxyCore, services: WorkerServices, now: UInt64,
                    start: (any AsyncOperation, @escaping (AsyncResult) -> Void) -> Void) {
        guard let database = database(services) else { return }
        let registrar = core.settings.registrar
        let clocks = UsrlocSQL.Clocks(location: now)
        let (purge, purgeParameters) = UsrlocSQL.purge(table: table, clocks: clocks)
        start(database.backend.queryOperation(id: database.id, query: purge, parameters: purgeParameters,
                                              worker: services)) { _ in }
        for aor in core.location.takeDirty() {
            let write = ProxyCore.LocationWrite(aor: aor, deleteAll: true, deleted: [],
                                                written: core.location.contacts(of: aor, now: now))
            let (sql, parameters) = UsrlocSQL.write(write, table: table, useDomain: registrar.useDomain, clocks: clocks,
                                                    socket: { UsrlocSQL.socketText(listen: core.settings.listen, index: $0) })
            let location = core.location
            start(database.backend.queryOperation(id: database.id, query: sql, parameters: parameters, worker: services)) { result in
                if !UsrlocBinding.succeeded(result.rc) { location.markDirty(aor) }
            }
        }
    }
}
