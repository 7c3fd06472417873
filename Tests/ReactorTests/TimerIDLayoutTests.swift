import Testing
@testable import Reactor

/// `TimerID` keeps its 32-bit slot last (issue 19): an optional timer is 13 bytes, not 17.
@Suite struct TimerIDLayoutTests {
    @Test func optionalTimerIDFitsThirteenBytes() {
        #expect(MemoryLayout<TimerID>.size == 12)
        #expect(MemoryLayout<TimerID?>.size == 13)
    }

    @Test func equalityAndHashingStayThoseOfBothParts() {
        let a = TimerID(slot: 1, sequence: 7)
        #expect(a == TimerID(slot: 1, sequence: 7))
        #expect(a != TimerID(slot: 2, sequence: 7))
        #expect(a != TimerID(slot: 1, sequence: 8))
        #expect(Set([a, TimerID(slot: 1, sequence: 7), TimerID(slot: 1, sequence: 8)]).count == 2)
    }
}
