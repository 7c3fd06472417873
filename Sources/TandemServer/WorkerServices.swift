import DNSResolver
import HTTPDriver
import TandemAsync

/// The driver settings of a script, fixed at load and shared by every worker.
struct DriverSettings: Sendable {
    /// Databases of the `db_url`s (and the cachedb MongoDB pool).
    var databases: DatabaseConfiguration
    /// LDAP sessions.
    var ldap: LDAPConfiguration
    /// rest_client's settings.
    var http: HTTPDriverSettings
    /// The resolver of the proxy (core `dns_*` parameters, shared cache), also used by `dns_query`.
    var dns = DNSEnvironment.shared
}

/// Per-worker state of one driver (its connection pools, its curl multi), created on first use on
/// the worker that owns the ``WorkerServices``.
protocol WorkerDriverState: AnyObject {
    init(worker: WorkerServices)
}

/// What one SIP worker owns beyond the proxy core: its part of the async engine, the driver settings
/// and each driver's per-worker state. Built when the worker starts, handed to the router for that
/// worker, and only used on its thread.
final class WorkerServices {
    let asyncWorker: AsyncWorker
    let settings: DriverSettings
    /// The backend health entries of the HTTP origins this worker's `rest_*` calls reach.
    let httpOrigins = HTTPOriginHealthCache()
    private var states: [ObjectIdentifier: any WorkerDriverState] = [:]

    init(asyncWorker: AsyncWorker, settings: DriverSettings) {
        self.asyncWorker = asyncWorker
        self.settings = settings
    }

    /// Starts opening each database's minimum connections on this worker (`db_pool_min_size` for
    /// PostgreSQL), in the background on its reactor: the way OpenSIPS's modules connect in child_init,
    /// without blocking the start. Call on the worker's thread, once, when it starts.
    func warmUpDatabases() {
        for database in settings.databases.databases {
            database.backend.warmUp(id: database.id, worker: self)
        }
    }

    /// This worker's state of type `State`, created on first use.
    func state<State: WorkerDriverState>(_ type: State.Type) -> State {
        if let existing = states[ObjectIdentifier(type)] as? State { return existing }
        let created = State(worker: self)
        states[ObjectIdentifier(type)] = created
        return created
    }
}
