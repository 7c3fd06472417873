import Foundation
import Glibc
import HTTPDriver
import Reactor
import TandemAsync
import TandemTestSupport
import Testing

/// Base URL of the echo server started by `TANDEM_TEST_SERVERS=http scripts/test.sh` (ends with `/`).
let httpBase: String? = TestEnvironment.httpURL
let httpServerAvailable = httpBase != nil

/// A reactor, an engine worker and an explicit multi, driven by the test's thread.
final class Harness {
    let reactor: Reactor
    let engine: AsyncEngine
    let worker: AsyncWorker
    let multi: CurlMulti

    init(settings: HTTPDriverSettings = HTTPDriverSettings(), engine: AsyncEngineConfiguration = AsyncEngineConfiguration()) throws {
        reactor = try Reactor()
        self.engine = AsyncEngine(configuration: engine)
        worker = self.engine.makeWorker(reactor: reactor)
        multi = try #require(CurlMulti(reactor: reactor, settings: settings))
    }

    deinit {
        multi.close()
        engine.shutdown()
        reactor.close()
    }

    /// Starts `requests` at once and runs the loop until all completed (or `limitMs`).
    func run(_ requests: [HTTPRequest], mode: AsyncMode? = nil, timeoutMs: UInt64? = nil,
             limitMs: Int = 10_000) throws -> [AsyncResult?] {
        let results = Box<[AsyncResult?]>(Array(repeating: nil, count: requests.count))
        let remaining = Box(requests.count)
        for (index, request) in requests.enumerated() {
            let op = HTTPRequestOperation(request: request, multi: multi)
            worker.start(op, mode: mode, timeoutMs: timeoutMs) { result in
                results.value[index] = result
                remaining.value -= 1
            }
        }
        try spin(limitMs: limitMs) { remaining.value == 0 }
        return results.value
    }

    func run(_ request: HTTPRequest, mode: AsyncMode? = nil, timeoutMs: UInt64? = nil) throws -> AsyncResult? {
        try run([request], mode: mode, timeoutMs: timeoutMs)[0]
    }

    /// Runs the loop until `condition` holds or `limitMs` of real time passed.
    func spin(limitMs: Int = 5000, until condition: () -> Bool) throws {
        try TandemTestSupport.spin(reactor, limitMs: limitMs, until: condition)
    }
}

/// Settings with short timeouts for tests.
func testSettings(connectMs: UInt64 = 2000, totalMs: UInt64 = 5000) -> HTTPDriverSettings {
    var s = HTTPDriverSettings()
    s.connectTimeoutMs = connectMs
    s.totalTimeoutMs = totalMs
    return s
}

func get(_ path: String, base: String? = httpBase, settings: HTTPDriverSettings = testSettings()) -> HTTPRequest {
    HTTPRequest(method: .get, url: (base ?? "http://127.0.0.1:1/") + path, settings: settings)
}

/// Parses a JSON object body.
func json(_ result: AsyncResult?) -> [String: Any] {
    guard let body = result?.output("body")?.stringValue,
          let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return [:] }
    return object
}

/// Our own instance of scripts/test-servers/http_server.py (for the restart test).
final class EchoServer {
    let port: UInt16
    private var process: Process?

    init(port: UInt16) { self.port = port }

    var base: String { "http://127.0.0.1:\(port)/" }

    static var scriptPath: String {
        TestEnvironment.repositoryRoot + "/scripts/test-servers/http_server.py"
    }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env")
        p.arguments = (p.executableURL?.path == "/usr/bin/env" ? ["python3"] : []) + ["-u", Self.scriptPath, "--port", "\(port)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        // Ready when it accepts a connection.
        for _ in 0..<200 {
            if canConnect() { return }
            usleep(20_000)
        }
    }

    func stop() {
        guard let p = process else { return }
        // SIGKILL: the child inherits the test thread's signal mask, where SIGTERM may be blocked.
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    private func canConnect() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    deinit { stop() }
}
