import SIPTransaction
import Testing
import TandemTestSupport

@Suite struct NonInviteClientTransactionTests {
    typealias NICT = NonInviteClientTransaction
    typealias Driver = ManualClockDriver<NICT>

    static func started(reliable: Bool = false, settings: TimerSettings = .standard) -> Driver {
        var driver = Driver(NICT(settings: settings, reliable: reliable))
        driver.send(.start)
        return driver
    }

    @Test func startStartsEandF() {
        var nict = NICT(reliable: false)
        #expect(nict.state == .idle)
        #expect(nict.handle(.start) == [.startTimer(.e, milliseconds: 500), .startTimer(.f, milliseconds: 32_000)])
        #expect(nict.state == .trying)
        var reliable = NICT(reliable: true)
        #expect(reliable.handle(.start) == [.startTimer(.f, milliseconds: 32_000)])
    }

    @Test func timerERetransmissionScheduleCappedAtT2() {
        var d = Self.started()
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitRequest) == [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500,
                                                    27_500, 31_500])
        #expect(d.times(of: .timeout(.f)) == [32_000])
        #expect(d.times(of: .terminated) == [32_000])
        #expect(d.machine.isTerminated)
    }

    @Test func customT2() {
        var d = Self.started(settings: TimerSettings(t1: 500, t2: 2_000))
        d.advance(to: 12_000)
        #expect(d.times(of: .retransmitRequest) == [500, 1_500, 3_500, 5_500, 7_500, 9_500, 11_500])
    }

    @Test func heldProvisionalPausesTimerEUntilPassedUp() {
        var d = Self.started()
        #expect(d.send(.responseHeld(statusCode: 180)) == [.cancelTimers(.e)])
        #expect(d.machine.state == .proceeding)
        #expect(d.send(.responseHeld(statusCode: 180)) == [])
        d.advance(to: 10_000)
        #expect(d.times(of: .retransmitRequest) == [])
        #expect(d.send(.response(statusCode: 180)) == [.startTimer(.e, milliseconds: 4_000),
                                                        .passResponse(statusCode: 180)])
        d.advance(to: 14_000)
        #expect(d.times(of: .retransmitRequest) == [14_000])
    }

    @Test func heldFinalStopsEandF() {
        var d = Self.started()
        #expect(d.send(.responseHeld(statusCode: 200)) == [.cancelTimers([.e, .f])])
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitRequest) == [])
        #expect(d.times(of: .timeout(.f)) == [])
        #expect(d.send(.response(statusCode: 200)).contains(.passResponse(statusCode: 200)))
        #expect(d.machine.state == .completed)
    }

    @Test func proceedingRetransmitsAtT2() {
        var d = Self.started()
        d.advance(to: 1_000)
        #expect(d.send(.response(statusCode: 100)) == [.passResponse(statusCode: 100)])
        #expect(d.machine.state == .proceeding)
        d.advance(to: 100_000)
        // E already scheduled for 1.5 s keeps running; in Proceeding it is reset to T2.
        #expect(d.times(of: .retransmitRequest) == [500, 1_500, 5_500, 9_500, 13_500, 17_500, 21_500, 25_500, 29_500])
        #expect(d.times(of: .timeout(.f)) == [32_000])
    }

    @Test func provisionalsInProceedingPassedUp() {
        var d = Self.started()
        d.send(.response(statusCode: 100))
        #expect(d.send(.response(statusCode: 183)) == [.passResponse(statusCode: 183)])
    }

    @Test(arguments: [200, 404, 603])
    func finalResponseCompletesThenTimerK(code: Int) {
        var d = Self.started()
        d.advance(to: 600)
        #expect(d.send(.response(statusCode: code)) == [.cancelTimers([.e, .f]), .startTimer(.k, milliseconds: 5_000),
                                                        .passResponse(statusCode: code)])
        #expect(d.machine.state == .completed)
        // Retransmitted finals (and anything else) are absorbed.
        #expect(d.send(.response(statusCode: code)) == [])
        #expect(d.send(.response(statusCode: 180)) == [])
        #expect(d.send(.transportError) == [])
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [5_600])
        #expect(d.times(of: .retransmitRequest) == [500])
        #expect(d.times(of: .passResponse(statusCode: code)) == [600])
    }

    @Test func finalInProceeding() {
        var d = Self.started()
        d.send(.response(statusCode: 100))
        #expect(d.send(.response(statusCode: 200)) == [.cancelTimers([.e, .f]), .startTimer(.k, milliseconds: 5_000),
                                                       .passResponse(statusCode: 200)])
    }

    @Test func customT4ChangesTimerK() {
        var d = Self.started(settings: TimerSettings(t4: 2_500))
        d.send(.response(statusCode: 200))
        d.advance(to: 10_000)
        #expect(d.times(of: .terminated) == [2_500])
    }

    @Test func reliableNoRetransmitsAndImmediateTermination() {
        var d = Self.started(reliable: true)
        d.advance(to: 10_000)
        #expect(d.times(of: .retransmitRequest) == [])
        #expect(d.send(.response(statusCode: 200)) == [.cancelTimers(.f), .passResponse(statusCode: 200), .terminated])
        #expect(d.machine.isTerminated)
        #expect(d.tracker.activeTimers.isEmpty)
    }

    @Test func reliableTimeout() {
        var d = Self.started(reliable: true)
        d.advance(to: 100_000)
        #expect(d.times(of: .timeout(.f)) == [32_000])
    }

    @Test func transportErrors() {
        var idle = NICT(reliable: false)
        #expect(idle.handle(.transportError) == [.transportError, .terminated])
        var trying = Self.started()
        #expect(trying.send(.transportError) == [.transportError, .terminated])
        #expect(trying.tracker.activeTimers.isEmpty)
        var proceeding = Self.started()
        proceeding.send(.response(statusCode: 100))
        #expect(proceeding.send(.transportError) == [.transportError, .terminated])
    }

    @Test func irrelevantEventsIgnored() {
        var nict = NICT(reliable: false)
        #expect(nict.handle(.timer(.e)) == [])
        #expect(nict.handle(.response(statusCode: 200)) == [])
        _ = nict.handle(.start)
        #expect(nict.handle(.start) == [])
        #expect(nict.handle(.timer(.k)) == [])
        #expect(nict.handle(.timer(.a)) == [])
        #expect(nict.handle(.response(statusCode: 0)) == [])
        #expect(nict.handle(.response(statusCode: 1_000)) == [])
        _ = nict.handle(.response(statusCode: 200))
        #expect(nict.handle(.timer(.e)) == [])  // stale E after cancel
        #expect(nict.handle(.timer(.f)) == [])  // stale F after cancel
        _ = nict.handle(.timer(.k))
        #expect(nict.isTerminated)
        for event: NICT.Event in [.start, .timer(.k), .timer(.e), .response(statusCode: 200), .transportError] {
            #expect(nict.handle(event) == [])
        }
    }

    @Test func cancelIsAnOrdinaryNonInviteTransaction() {
        // CANCEL answered 200 by the next hop: same machine, same timers.
        var d = Self.started()
        d.advance(to: 300)
        d.send(.response(statusCode: 200))
        d.advance(to: 5_300)
        #expect(d.machine.isTerminated)
    }
}
