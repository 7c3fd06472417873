import Glibc
import PostgresDriver
import Reactor
import TandemAsync

/// Mutable state captured by loop-thread callbacks.
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

/// The test server from `TANDEM_TEST_SERVERS=postgres scripts/test.sh` (absent: server tests skip).
enum TestServer {
    static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    static var url: String? { env("TANDEM_TEST_PG_URL") }
    static var conninfo: String? { env("TANDEM_TEST_PG_CONNINFO") }
    static var available: Bool { url != nil }
    /// The repository root (for scripts/test-servers/postgres.sh).
    static var repositoryRoot: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/PostgresDriverTests/TestSupport.swift
        return parts.joined(separator: "/")
    }
}

func nowMs() -> UInt64 { System.monotonicNanoseconds() / 1_000_000 }

/// A worker: reactor + async engine + one pool.
final class Harness {
    let reactor: Reactor
    let engine: AsyncEngine
    let worker: AsyncWorker
    let pool: PostgresPool

    init(conninfo: String, configuration: PostgresPoolConfiguration = PostgresPoolConfiguration(),
         health: BackendHealth? = nil) throws {
        reactor = try Reactor()
        engine = AsyncEngine()
        worker = engine.makeWorker(reactor: reactor)
        pool = PostgresPool(settings: try PostgresConnectionSettings(conninfo), reactor: reactor,
                            configuration: configuration, health: health)
    }

    deinit {
        pool.close()
        engine.shutdown()
    }

    /// Runs the loop until `condition` holds or `limitMs` passed.
    func spin(limitMs: UInt64 = 5000, until condition: () -> Bool) throws {
        let start = nowMs()
        while !condition() && nowMs() - start < limitMs {
            _ = try reactor.runOnce(timeoutMs: 10)
        }
    }

    /// Starts one query as an async job and returns its result.
    func query(_ sql: String, _ parameters: [String?] = [], mode: AsyncMode? = .native, timeoutMs: UInt64 = 5000) throws -> AsyncResult {
        let got = Box<AsyncResult?>(nil)
        worker.start(PostgresQueryOperation(pool: pool, sql: sql, parameters: parameters), mode: mode, timeoutMs: timeoutMs) {
            got.value = $0
        }
        try spin(limitMs: timeoutMs + 5000) { got.value != nil }
        return got.value ?? AsyncResult(rc: -99)
    }
}

extension AsyncResult {
    /// Column `index` as a list (empty if absent).
    func column(_ index: Int) -> [String?] {
        if case .list(let values)? = output(PostgresQueryOperation.outputName(column: index)) { return values }
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

/// Runs a shell command, returns its exit status.
@discardableResult
func shell(_ command: String) -> Int32 {
    var pid = pid_t()
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup("-c"), strdup(command), nil]
    defer { for arg in argv { free(arg) } }
    guard posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}
