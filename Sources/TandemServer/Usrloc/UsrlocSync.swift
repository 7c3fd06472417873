import Logging
import Reactor
import TandemAsync
import TandemProxy
import TandemScript

/// usrloc's work with the `location` table outside the registrar calls: the load at start
/// (write-through, write-back), and the timer every `timer_interval` seconds on worker 0, which deletes
/// expired rows and writes the AORs changed in memory (write-back, and `remove()` in every database
/// mode). The timer's statements run on the worker's pool like any async call: it never blocks.
enum UsrlocSync {
    /// `settings` with the location tables the script names as the first argument of `save`, `lookup`,
    /// `is_registered`/`registered` and `remove` (constants only; "location" when it names none): the load
    /// at start and the timer work on each.
    static func withTables(of ast: ScriptAST, _ settings: ProxySettings) -> ProxySettings {
        var tables: [String] = []
        for call in ast.functionCalls where ["save", "lookup", "is_registered", "registered", "remove"].contains(call.name) {
            guard let first = call.args.first else { continue }
            switch first.kind {
            case .string(let text), .word(let text):
                let table = UsrlocSQL.table(text)
                if !text.contains("$"), !tables.contains(table) { tables.append(table) }
            default:
                continue
            }
        }
        var settings = settings
        settings.registrar.tables = tables.isEmpty ? ["location"] : tables
        return settings
    }

    /// The table write-back flushes changed AORs to: `location` when the script uses it, else the first
    /// one it names (memory holds one contact list per AOR, whatever the table).
    static func flushTable(_ core: ProxyCore) -> String {
        let tables = core.settings.registrar.tables
        return tables.contains("location") ? "location" : tables.first ?? "location"
    }

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
        for table in registrar.tables {
            let (purge, purgeParameters) = UsrlocSQL.purge(table: table, clocks: clocks)
            _ = services.asyncWorker.runSynchronously(
                database.backend.queryOperation(id: database.id, query: purge, parameters: purgeParameters, worker: services))
        }
        guard registrar.mode.loadsAtStart else { return }
        var byAOR: [String: [LocationContact]] = [:]
        for table in registrar.tables {
            let (sql, parameters) = UsrlocSQL.selectAll(table: table, clocks: clocks)
            let result = services.asyncWorker.runSynchronously(
                database.backend.queryOperation(id: database.id, query: sql, parameters: parameters, worker: services))
            guard UsrlocBinding.succeeded(result.rc) else {
                logger.error("usrloc: cannot load a location table; starting without its contacts",
                             metadata: ["rc": "\(result.rc)", "table": "\(table)"])
                continue
            }
            var users: [String?] = [], domains: [String?] = []
            if case .list(let values)? = result.output("col0") { users = values }
            if case .list(let values)? = result.output("col1") { domains = values }
            for (i, contact) in UsrlocSQL.rows(result, offset: 2, clocks: clocks).enumerated() {
                guard let contact, i < users.count, let user = users[i] else { continue }
                let domain = i < domains.count ? domains[i] : nil
                let aor = registrar.useDomain && domain?.isEmpty == false ? "\(user)@\(domain!)" : user
                byAOR[aor, default: []].append(contact)
            }
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
        for table in registrar.tables {
            let (purge, purgeParameters) = UsrlocSQL.purge(table: table, clocks: clocks)
            start(database.backend.queryOperation(id: database.id, query: purge, parameters: purgeParameters,
                                                  worker: services)) { _ in }
        }
        let table = flushTable(core)
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
