import LDAPDriver
import PostgresDriver
import Reactor
import TandemAsync

/// What one SIP worker owns beyond the proxy core: its part of the async engine and its driver
/// connection pools. Created on the worker thread and only used there.
final class WorkerServices {
    let asyncWorker: AsyncWorker
    let databases: DatabaseConfiguration
    let ldap: LDAPConfiguration
    private var postgresPools: [String: PostgresPool] = [:]
    private var ldapPools: [String: LDAPConnectionPool] = [:]
    /// The outcome of the last `ldap_search` on this worker, read by `ldap_result` (as OpenSIPS keeps it
    /// per process).
    var lastLDAPResult: AsyncResult?

    init(asyncWorker: AsyncWorker, databases: DatabaseConfiguration, ldap: LDAPConfiguration) {
        self.asyncWorker = asyncWorker
        self.databases = databases
        self.ldap = ldap
    }

    /// This worker's connection pool for LDAP session `name`, created on first use.
    func ldapPool(session name: String) -> LDAPConnectionPool? {
        if let pool = ldapPools[name] { return pool }
        guard let session = ldap.sessions[name] else { return nil }
        let pool = LDAPConnectionPool(session: session.configuration, reactor: asyncWorker.reactor,
                                      blocking: session.blocking)
        ldapPools[name] = pool
        return pool
    }

    /// This worker's pool for database `id` (the default database when nil), created on first use.
    func postgresPool(id: String?) -> PostgresPool? {
        guard let database = databases.database(id: id), case .postgres(let settings, let blocking) = database.backend else {
            return nil
        }
        if let pool = postgresPools[database.id] { return pool }
        // host:port/dbname, never the credentials.
        let address = "\(settings.value(of: "host") ?? "localhost"):\(settings.value(of: "port") ?? "5432")/"
            + (settings.value(of: "dbname") ?? "")
        let pool = PostgresPool(settings: settings, reactor: asyncWorker.reactor,
                                configuration: PostgresPoolConfiguration(size: databases.poolSize),
                                blocking: blocking,
                                health: asyncWorker.backends.health(driver: "postgres", address: address))
        postgresPools[database.id] = pool
        return pool
    }
}
