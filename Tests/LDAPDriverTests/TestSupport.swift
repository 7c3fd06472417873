import Glibc
import LDAPDriver
import Reactor
import TandemAsync
import TandemTestSupport

/// The slapd from `TANDEM_TEST_SERVERS=slapd scripts/test.sh` (absent: server tests skip).
enum TestServer {
    static func env(_ name: String) -> String? { TestEnvironment.value(name) }
    static var url: String? { TestEnvironment.ldapURL }
    static var base: String { env("TANDEM_TEST_LDAP_BASE") ?? "dc=example,dc=com" }
    static var bindDN: String { env("TANDEM_TEST_LDAP_BIND_DN") ?? "cn=admin,dc=example,dc=com" }
    static var bindPassword: String { env("TANDEM_TEST_LDAP_BIND_PW") ?? "secret" }
    static var available: Bool { url != nil }
    static var repositoryRoot: String { TestEnvironment.repositoryRoot }

    static func session(url: String? = nil, password: String? = nil) throws -> LDAPSessionConfiguration {
        try LDAPSessionConfiguration(name: "test", serverURL: url ?? Self.url ?? "ldap://127.0.0.1:1",
                                     bindDN: bindDN, bindPassword: password ?? bindPassword,
                                     networkTimeoutMs: 500, bindTimeoutMs: 500)
    }
}

/// A worker: reactor + async engine + one pool.
final class Harness {
    let reactor: Reactor
    let engine: AsyncEngine
    let worker: AsyncWorker
    let pool: LDAPConnectionPool

    init(session: LDAPSessionConfiguration, configuration: LDAPPoolConfiguration = LDAPPoolConfiguration(),
         engine: AsyncEngine = AsyncEngine()) throws {
        reactor = try Reactor()
        self.engine = engine
        worker = engine.makeWorker(reactor: reactor)
        pool = LDAPConnectionPool(session: session, reactor: reactor, configuration: configuration)
    }

    deinit {
        pool.close()
        engine.shutdown()
    }

    func spin(limitMs: UInt64 = 5000, until condition: () -> Bool) throws {
        try TandemTestSupport.spin(reactor, limitMs: Int(limitMs), until: condition)
    }

    /// Starts one search as an async job and returns its result.
    func search(_ url: String, mode: AsyncMode? = .native, timeoutMs: UInt64 = 3000) throws -> AsyncResult {
        let got = Box<AsyncResult?>(nil)
        worker.start(LDAPSearchOperation(pool: pool, search: try LDAPURL.parse(url)), mode: mode, timeoutMs: timeoutMs) {
            got.value = $0
        }
        try spin(limitMs: timeoutMs + 3000) { got.value != nil }
        return got.value ?? AsyncResult(rc: -99)
    }
}

extension AsyncResult {
    func values(_ attribute: String) -> [String?] {
        if case .list(let values)? = output(LDAPSearchOperation.outputName(attribute: attribute)) { return values }
        return []
    }

    var errorText: String { output("error")?.stringValue ?? "" }
}
