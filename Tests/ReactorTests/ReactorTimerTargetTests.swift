import Testing
@testable import Reactor
import TandemTestSupport

/// Timers that notify an object (`schedule(afterMilliseconds:target:)`) fire in deadline order with the
/// closure timers, can be cancelled, and may re-arm themselves from the notification.
@Suite struct ReactorTimerTargetTests {
    final class Recorder: ReactorTimerTarget {
        let name: String
        let log: Box<[String]>
        var rearms: Int
        weak var reactor: Reactor?
        init(_ name: String, log: Box<[String]>, rearms: Int = 0) {
            self.name = name
            self.log = log
            self.rearms = rearms
        }
        func reactorTimerFired() {
            log.value.append(name)
            if rearms > 0, let reactor {
                rearms -= 1
                reactor.schedule(afterMilliseconds: 10, target: self)
            }
        }
    }

    @Test func targetsFireInOrderWithClosures() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let log = Box<[String]>([])
        let repeating = Recorder("r", log: log, rearms: 2)
        repeating.reactor = reactor
        reactor.schedule(afterMilliseconds: 20, target: Recorder("t20", log: log))
        reactor.schedule(afterMilliseconds: 10) { log.value.append("c10") }
        let cancelled = reactor.schedule(afterMilliseconds: 15, target: Recorder("t15", log: log))
        reactor.schedule(afterMilliseconds: 10, target: repeating)
        #expect(reactor.cancel(cancelled))
        try reactor.runOnce(timeoutMs: 0)
        #expect(log.value.isEmpty)
        clock.advance(byMilliseconds: 10)
        try reactor.runOnce(timeoutMs: 0)
        #expect(log.value == ["c10", "r"])
        clock.advance(byMilliseconds: 10)
        try reactor.runOnce(timeoutMs: 0)
        #expect(log.value == ["c10", "r", "t20", "r"])
        clock.advance(byMilliseconds: 10)
        try reactor.runOnce(timeoutMs: 0)
        #expect(log.value == ["c10", "r", "t20", "r", "r"])
        clock.advance(byMilliseconds: 100)
        try reactor.runOnce(timeoutMs: 0)
        #expect(log.value.count == 5)
        #expect(reactor.timerCount == 0)
    }
}
