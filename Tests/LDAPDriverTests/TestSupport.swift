import Glibc
import LDAPDriver
import Reactor
import TandemAsync

/// Mutable state captured by loop-thread callbacks.
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

/// The slapd from `TANDEM_TEST_SERVERS=slapd scripts/test.sh` (absent: server tests skip).
enum TestServer {
    static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    static var url: String? { env("TANDEM_TEST_LDAP_URL") }
    static var base: String { env("TANDEM_TEST_LDAP_BASE") ?? "dc=example,dc=com" }
    static var bindDN: String { env("TANDEM_TEST_LDAP_BIND_DN") ?? "cn=admin,dc=example,dc=com" }
    static var bindPassword: String { env("TANDEM_TEST_LDAP_BIND_PW") ?? "secret" }
    static var available: Bool { url != nil }
    static var repositoryRoot: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/LDAPDriverTests/TestSupport.swift
        return parts.joined(separator: "/")
    }

    static func session(url: String? = nil, password: String? = nil) throws -> LDAPSessionConfiguration {
        try LDAPSessionConfiguration(name: "test", serverURL: url ?? Self.url ?? "ldap://127.0.0.1:1",
                                     bindDN: bindDN, bindPassword: password ?? bindPassword,
                                     networkTimeoutMs: 500, bindTimeoutMs: 500)
    }
}

func nowMs() -> UInt64 { System.monotonicNanoseconds() / 1_000_000 }

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
        let start = nowMs()
        while !condition() && nowMs() - start < limitMs {
            _ = try reactor.runOnce(timeoutMs: 10)
        }
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

/// A TCP port on 127.0.0.1 that nothing listens on (just released by the kernel).
func closedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(fd, pointer, length)
            _ = getsockname(fd, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs a shell command, returns its exit status. The child gets an empty signal mask and default
/// SIGPIPE handling: the test process blocks most signals in its threads (and the pool ignores SIGPIPE),
/// and a slapd inheriting that mask would never see the SIGTERM of a graceful stop.
@discardableResult
func shell(_ command: String) -> Int32 {
    var pid = pid_t()
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup("-c"), strdup(command), nil]
    defer { for arg in argv { free(arg) } }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    guard posix_spawn(&pid, "/bin/bash", nil, &attributes, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}
