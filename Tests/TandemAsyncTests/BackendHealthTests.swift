import Synchronization
import Testing
@testable import TandemAsync

/// Loss and recovery of a backend are counted in full and reported once per transition, at most one
/// line per kind every 10 s per backend.
@Suite struct BackendHealthTests {
    final class Reports: Sendable {
        let events = Mutex<[BackendHealth.Event]>([])
    }

    @Test("Many workers noticing one loss: one loss, one line; a flapping backend is counted but not logged each time")
    func transitionsCountedAndRateLimited() {
        let registry = BackendHealthRegistry()
        let reports = Reports()
        registry.setReporter { _, event in reports.events.withLock { $0.append(event) } }
        let health = registry.health(driver: "postgres", address: "127.0.0.1:5432/db")
        #expect(registry.health(driver: "postgres", address: "127.0.0.1:5432/db") === health)
        let s: UInt64 = 1_000_000_000
        for _ in 0..<8 { health.lost("connection refused", now: 100 * s) }
        health.reachable(now: 101 * s)
        health.reachable(now: 101 * s)
        #expect(health.lossCount == 1)
        #expect(health.recoveryCount == 1)
        #expect(reports.events.withLock { $0 } == [.lost(reason: "connection refused"), .recovered])
        // Flapping within 10 s: counted, not logged again.
        health.lost("refused", now: 102 * s)
        health.reachable(now: 103 * s)
        #expect(health.lossCount == 2)
        #expect(health.recoveryCount == 2)
        #expect(reports.events.withLock { $0.count } == 2)
        // After the interval the next loss is logged again.
        health.lost("timeout", now: 111 * s)
        #expect(reports.events.withLock { $0.last } == .lost(reason: "timeout"))
        #expect(health.isDown)
        #expect(registry.all.count == 1)
    }
}
