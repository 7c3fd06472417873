import SIPTransaction
import Testing

@Suite struct TimerSettingsTests {
    @Test func defaultsMatchRFC3261Table4() {
        let s = TimerSettings.standard
        #expect(s.t1 == 500)
        #expect(s.t2 == 4_000)
        #expect(s.t4 == 5_000)
        #expect(s.timerA == 500)
        #expect(s.timerE == 500)
        #expect(s.timerG == 500)
        for value in [s.timerB, s.timerF, s.timerH, s.timerL, s.timerM, s.transactionTimeout] {
            #expect(value == 32_000)
        }
        #expect(s.timerC == 180_000)
        #expect(s.timerD(reliable: false) == 32_000)
        #expect(s.timerI(reliable: false) == 5_000)
        #expect(s.timerK(reliable: false) == 5_000)
        #expect(s.timerJ(reliable: false) == 32_000)
    }

    @Test func reliableTransportsZeroDIJK() {
        let s = TimerSettings.standard
        #expect(s.timerD(reliable: true) == 0)
        #expect(s.timerI(reliable: true) == 0)
        #expect(s.timerJ(reliable: true) == 0)
        #expect(s.timerK(reliable: true) == 0)
        // B, F, H, L, M do not depend on the transport.
        #expect(s.timerB == 32_000)
    }

    @Test func customValuesDrivedTimers() {
        let s = TimerSettings(t1: 100, t2: 1_000, t4: 2_500, unreliableTimerD: 40_000, timerC: 200_000)
        #expect(s.timerB == 6_400)
        #expect(s.timerJ(reliable: false) == 6_400)
        #expect(s.timerD(reliable: false) == 40_000)
        #expect(s.timerI(reliable: false) == 2_500)
        #expect(s.timerC == 200_000)
    }

    @Test func finalResponseTimeoutDrivesTimersBAndFOnly() {
        let s = TimerSettings(timerC: 30_000, finalResponseTimeout: 2_000)
        #expect(s.timerB == 2_000)
        #expect(s.timerF == 2_000)
        #expect(s.timerC == 30_000)
        for value in [s.timerH, s.timerL, s.timerM, s.timerJ(reliable: false), s.transactionTimeout] {
            #expect(value == 32_000)
        }
        #expect(TimerSettings.standard.finalResponseTimeout == nil)
        #expect(TimerSettings(finalResponseTimeout: 0).timerB == 1)
    }

    @Test func cappedAndUncappedDoubling() {
        let s = TimerSettings.standard
        #expect(s.nextCappedInterval(after: 500) == 1_000)
        #expect(s.nextCappedInterval(after: 2_000) == 4_000)
        #expect(s.nextCappedInterval(after: 4_000) == 4_000)
        #expect(s.nextInviteInterval(after: 4_000) == 8_000)
        #expect(s.nextInviteInterval(after: 16_000) == 32_000)
        #expect(s.nextInviteInterval(after: 32_000) == 32_000)
    }

    @Test func invalidValuesAreClamped() {
        let s = TimerSettings(t1: 0, t2: -5, t4: -1, unreliableTimerD: -3, timerC: 0)
        #expect(s.t1 == 1)
        #expect(s.t2 == 1)
        #expect(s.t4 == 0)
        #expect(s.unreliableTimerD == 0)
        #expect(s.timerC == 1)
        let huge = TimerSettings(t1: .max, t2: .max)
        #expect(huge.transactionTimeout > 0)  // no overflow
        #expect(huge.nextInviteInterval(after: huge.timerB) == huge.timerB)
    }
}
