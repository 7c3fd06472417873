import Glibc
import Synchronization
import PostgresDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// A pool pointed at a port where no server runs yet; a private PostgreSQL instance (its own state dir,
/// so the shared test server is untouched) is then started, stopped and started again on that port.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_PG_URL (TANDEM_TEST_SERVERS=postgres scripts/test.sh)"))
struct PostgresServerRestartTests {
    @Test func absentServerFailsFastThenIsPickedUpAfterStartAndRestart() throws {
        let port = closedPort()
        let state = "/tmp/tandem-pg-restart-\(getpid())"
        let script = "\(TestServer.repositoryRoot)/scripts/test-servers/postgres.sh"
        let control = "TANDEM_TEST_STATE_DIR=\(state) TANDEM_TEST_PG_PORT=\(port) bash \(script)"
        defer {
            shell("\(control) stop >/dev/null 2>&1")
            shell("rm -rf \(state)")
        }
        let h = try Harness(conninfo: "postgres://postgres@127.0.0.1:\(port)/tandem",
                            configuration: PostgresPoolConfiguration(size: 2, initialBackoffMs: 50, maxBackoffMs: 200))

        // 1. No server: rc -1 quickly, with the connect error.
        let t0 = nowMs()
        let absent = try h.query("SELECT 1")
        #expect(absent.rc == -1)
        #expect(absent.errorText.contains("refused"), "\(absent.errorText)")
        #expect(nowMs() - t0 < 500)
        // Within the backoff a query fails at once, without a connect attempt.
        let attempts = h.pool.statistics.connectAttempts
        #expect(try h.query("SELECT 1").rc == -1)
        #expect(h.pool.statistics.connectAttempts == attempts)

        // 2. The server starts: the pool connects by itself on a later query.
        #expect(shell("\(control) start >/dev/null 2>&1") == 0)
        #expect(try queryUntilSuccess(h, limitMs: 3000) == ["up"])

        // 3. The server stops: queries fail (-1), no hang.
        #expect(shell("\(control) stop >/dev/null 2>&1") == 0)
        try h.spin(limitMs: 2000) { h.pool.connectionCount == 0 }
        let t1 = nowMs()
        #expect(try h.query("SELECT 1").rc == -1)
        #expect(nowMs() - t1 < 500)

        // 4. And starts again (a new cluster on the same port): picked up again.
        #expect(shell("\(control) start >/dev/null 2>&1") == 0)
        #expect(try queryUntilSuccess(h, limitMs: 3000) == ["up"])
    }

    @Test("A killed and restarted server: one loss and one recovery for two pools; no backoff doubling per connection")
    func lossAndRecoveryReportedOnce() throws {
        let port = closedPort()
        let state = "/tmp/tandem-pg-loss-\(getpid())"
        let script = "\(TestServer.repositoryRoot)/scripts/test-servers/postgres.sh"
        let control = "TANDEM_TEST_STATE_DIR=\(state) TANDEM_TEST_PG_PORT=\(port) bash \(script)"
        defer {
            shell("\(control) stop >/dev/null 2>&1")
            shell("rm -rf \(state)")
        }
        let registry = BackendHealthRegistry()
        let log = EventLog()
        registry.setReporter { _, event in log.events.withLock { $0.append(event) } }
        let health = registry.health(driver: "postgres", address: "127.0.0.1:\(port)/tandem")
        let configuration = PostgresPoolConfiguration(size: 4, initialBackoffMs: 50, maxBackoffMs: 400)
        let a = try Harness(conninfo: "postgres://postgres@127.0.0.1:\(port)/tandem", configuration: configuration,
                            health: health)
        let b = try Harness(conninfo: "postgres://postgres@127.0.0.1:\(port)/tandem", configuration: configuration,
                            health: health)

        // Four queries at once against a closed port: the four failed connects are one round. The first
        // round retries at once, the second sets the first delay; nothing doubles per connection.
        let results = Box<[AsyncResult]>([])
        for _ in 0..<4 {
            a.worker.start(PostgresQueryOperation(pool: a.pool, sql: "SELECT 1", parameters: []), mode: .native,
                           timeoutMs: 5000) { results.value.append($0) }
        }
        try a.spin(limitMs: 3000) { results.value.count == 4 }
        #expect(results.value.map(\.rc) == [-1, -1, -1, -1])
        #expect(a.pool.reconnectDelayMs == 50, "delay \(a.pool.reconnectDelayMs) ms")
        #expect(try b.query("SELECT 1").rc == -1)
        #expect(health.isDown)
        #expect(health.lossCount == 1, "both pools failing is one loss")

        #expect(shell("\(control) start >/dev/null 2>&1") == 0)
        #expect(try queryUntilSuccess(a, limitMs: 3000) == ["up"])
        #expect(try queryUntilSuccess(b, limitMs: 3000) == ["up"])
        #expect(!health.isDown)
        #expect(health.recoveryCount == 1)
        let events = log.events.withLock { $0 }
        #expect(events.count == 2, "one loss line and one recovery line: \(events)")
        if case .lost(let reason)? = events.first { #expect(reason.contains("refused"), "\(reason)") }
        #expect(events.last == .recovered)
    }

    /// Repeats a query (as a script would on each new call) until it succeeds; returns column 0.
    private func queryUntilSuccess(_ h: Harness, limitMs: UInt64) throws -> [String?] {
        let start = nowMs()
        while nowMs() - start < limitMs {
            let r = try h.query("SELECT 'up'")
            if r.rc == 1 { return r.column(0) }
            try h.spin(limitMs: 50) { false }
        }
        return []
    }
}

/// Backend events collected from any thread.
final class EventLog: Sendable {
    let events = Mutex<[BackendHealth.Event]>([])
}
