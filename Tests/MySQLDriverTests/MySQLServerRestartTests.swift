import Glibc
import Synchronization
import MySQLDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// A pool pointed at a port where no server runs yet; a private MariaDB instance (its own state dir, so
/// the shared test server is untouched) is then started there.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_MYSQL_URL (TANDEM_TEST_SERVERS=mariadb scripts/test.sh)"))
struct MySQLServerRestartTests {
    @Test("Absent server: -1 at once, no connect during the backoff, one loss; picked up after it starts, one recovery; the blocking form survives a restart",
          .timeLimit(.minutes(1)))
    func absentServerFailsFastThenIsPickedUp() throws {
        let port = closedPort()
        let state = "/tmp/tandem-my-absent-\(getpid())"
        let script = "\(TestServer.repositoryRoot)/scripts/test-servers/mariadb.sh"
        let control = "TANDEM_TEST_STATE_DIR=\(state) TANDEM_TEST_MYSQL_PORT=\(port) bash \(script)"
        defer {
            shell("\(control) stop >/dev/null 2>&1")
            shell("rm -rf \(state) \(state).log")
        }
        let registry = BackendHealthRegistry()
        let log = HealthEventLog()
        registry.setReporter { _, event in log.events.withLock { $0.append(event) } }
        let health = registry.health(driver: "mysql", address: "127.0.0.1:\(port)/tandem")
        let h = try Harness(url: "mysql://tandem:tandem@127.0.0.1:\(port)/tandem",
                            configuration: MySQLPoolConfiguration(size: 2, initialBackoffMs: 50, maxBackoffMs: 200),
                            health: health)

        // 1. No server: rc -1 quickly, with the connect error; within the backoff no new connect.
        let t0 = nowMs()
        let absent = try h.query("SELECT 1")
        #expect(absent.rc == -1)
        #expect(absent.errorText.contains("connect"), "\(absent.errorText)")
        #expect(nowMs() - t0 < 500)
        _ = try h.query("SELECT 1")  // the second round of failed connects starts the delay
        let attempts = h.pool.statistics.connectAttempts
        #expect(try h.query("SELECT 1").rc == -1)
        #expect(h.pool.statistics.connectAttempts == attempts, "failed fast, no connect during the backoff")
        #expect(health.isDown && health.lossCount == 1)

        // 2. The server starts: the pool connects by itself on a later query.
        #expect(shell("\(control) start >>\(state).log 2>&1") == 0, "\(contents(of: "\(state).log"))")
        var answer: [String?] = []
        let start = nowMs()
        while nowMs() - start < 5000 && answer.isEmpty {
            let r = try h.query("SELECT 'up'")
            if r.rc == 1 { answer = r.column(0) } else { try h.spin(limitMs: 50) { false } }
        }
        #expect(answer == ["up"])
        #expect(!health.isDown && health.recoveryCount == 1)
        #expect(log.events.withLock { $0.count } == 2, "one loss line and one recovery line")

        // 3. The blocking form keeps a handle; after a restart it notices the closed socket and reconnects.
        #expect(try h.query("SELECT $1", ["before"], mode: .offload).column(0) == ["before"])
        #expect(h.pool.blocking.idleCount == 1)
        #expect(shell("\(control) stop >/dev/null 2>&1") == 0)
        #expect(shell("\(control) start >>\(state).log 2>&1") == 0, "\(contents(of: "\(state).log"))")
        let after = try h.query("SELECT $1", ["after"], mode: .offload)
        #expect(after.rc == 1 && after.column(0) == ["after"], "\(after.errorText)")
    }
}

/// Backend events collected from any thread.
final class HealthEventLog: Sendable {
    let events = Mutex<[BackendHealth.Event]>([])
}

/// The text of the file at `path` ("" if unreadable): the control script's output when a start failed.
private func contents(of path: String) -> String {
    guard let file = fopen(path, "r") else { return "" }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
