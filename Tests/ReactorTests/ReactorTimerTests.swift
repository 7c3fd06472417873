import Glibc
import Testing
@testable import Reactor
import TandemTestSupport

@Suite struct ReactorTimerTests {
    @Test func timersFireWithManualClock() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let fired = Box<[String]>([])
        reactor.schedule(afterMilliseconds: 100) { fired.value.append("100") }
        reactor.schedule(after: .milliseconds(50)) { fired.value.append("50") }
        let cancelled = reactor.schedule(afterMilliseconds: 70) { fired.value.append("70") }
        reactor.schedule(afterMilliseconds: 50) { fired.value.append("50b") }
        try reactor.runOnce(timeoutMs: 0)
        #expect(fired.value.isEmpty)
        clock.advance(byMilliseconds: 49)
        try reactor.runOnce(timeoutMs: 0)
        #expect(fired.value.isEmpty)
        clock.advance(byMilliseconds: 1)
        try reactor.runOnce(timeoutMs: 0)
        #expect(fired.value == ["50", "50b"], "FIFO among equal deadlines")
        #expect(reactor.cancel(cancelled))
        #expect(!reactor.cancel(cancelled))
        clock.advance(by: .seconds(1))
        try reactor.runOnce(timeoutMs: 0)
        #expect(fired.value == ["50", "50b", "100"])
        #expect(reactor.timerCount == 0)
    }

    @Test func timerScheduledFromTimerRunsNextIteration() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let count = Box(0)
        func rearm() {
            reactor.schedule(afterMilliseconds: 0) {
                count.value += 1
                rearm()
            }
        }
        rearm()
        try reactor.runOnce(timeoutMs: 0)
        #expect(count.value == 1, "a zero-delay re-arm does not loop forever inside one iteration")
        try reactor.runOnce(timeoutMs: 0)
        #expect(count.value == 2)
    }

    @Test func timerCancelsAnotherDueTimer() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let fired = Box<[Int]>([])
        let second = Box<TimerID?>(nil)
        reactor.schedule(afterMilliseconds: 10) {
            fired.value.append(1)
            reactor.cancel(second.value!)
        }
        second.value = reactor.schedule(afterMilliseconds: 10) { fired.value.append(2) }
        clock.advance(byMilliseconds: 10)
        try reactor.runOnce(timeoutMs: 0)
        #expect(fired.value == [1])
    }

    @Test func scheduleAtDeadline() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let fired = Box(false)
        reactor.schedule(at: reactor.now + .milliseconds(5)) { fired.value = true }
        clock.advance(by: .milliseconds(5))
        try reactor.runOnce(timeoutMs: 0)
        #expect(fired.value)
    }

    @Test func manyTimersThroughReactor() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let fired = Box(0)
        var ids: [TimerID] = []
        for i in 0..<100_000 { ids.append(reactor.schedule(afterMilliseconds: UInt64(i % 500) + 1) { fired.value += 1 }) }
        for (i, id) in ids.enumerated() where i % 10 != 0 { reactor.cancel(id) }
        #expect(reactor.timerCount == 10_000)
        clock.advance(by: .seconds(1))
        try reactor.runOnce(timeoutMs: 0)
        #expect(fired.value == 10_000)
    }

    @Test func realTimerResolution() throws {
        let reactor = try Reactor()
        let start = reactor.now
        let firedAt = Box<Deadline?>(nil)
        reactor.schedule(afterMilliseconds: 20) { firedAt.value = reactor.now }
        try spin(reactor, limitMs: 2000) { firedAt.value != nil }
        let elapsed = try #require(firedAt.value).nanoseconds - start.nanoseconds
        #expect(elapsed >= 20_000_000)
        #expect(elapsed < 500_000_000, "fired \(elapsed / 1_000_000) ms late (tolerant bound)")
    }

    @Test func blockingWaitIsBoundedByTimer() throws {
        // runOnce(-1) must return once the timer is due rather than sleeping forever.
        let reactor = try Reactor()
        let fired = Box(false)
        reactor.schedule(afterMilliseconds: 15) { fired.value = true }
        let start = System.monotonicNanoseconds()
        while !fired.value { try reactor.runOnce(timeoutMs: -1) }
        #expect(System.monotonicNanoseconds() - start >= 15_000_000)
    }
}
