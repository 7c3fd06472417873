import Reactor
import Testing
@testable import TandemAsync
import TandemTestSupport

/// The engine's latency recorder hook (metrics histograms) and the histogram's bucket bounds.
@Suite struct LatencyRecorderTests {
    @Test func recorderSeesEachCompletedJobOfItsDriver() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let seen = Shared<[String: [UInt64]]>([:])
        let engine = AsyncEngine(latencyRecorders: { driver in
            { nanoseconds in seen.mutate { $0[driver, default: []].append(nanoseconds) } }
        })
        let worker = engine.makeWorker(reactor: reactor)
        for ms in [1, 3] { worker.start(SleepOperation(microseconds: UInt64(ms) * 1000)) { _ in } }
        let cancelled = worker.start(SleepOperation(seconds: 5)) { _ in }
        #expect(worker.cancel(cancelled))
        clock.advance(byMilliseconds: 1)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        clock.advance(byMilliseconds: 2)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        #expect(seen.value["usleep"] == [1_000_000, 3_000_000], "only completed jobs, with their latency")
        #expect(seen.value["sleep"] == nil, "a cancelled job records no latency")
        let usleep = try #require(engine.snapshot().driver("usleep"))
        // Bounds are inclusive and compared in nanoseconds: 1 ms falls in "≤1", 3 ms in "≤5".
        #expect(usleep.latencyHistogram[0] == 1 && usleep.latencyHistogram[1] == 1)
        let sleep = try #require(engine.snapshot().driver("sleep"))
        #expect(sleep.started == sleep.completed + sleep.timedOut + sleep.cancelled + sleep.rejected + sleep.inFlight)
    }
}
