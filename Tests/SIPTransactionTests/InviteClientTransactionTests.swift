import SIPTransaction
import Testing
import TandemTestSupport

@Suite struct InviteClientTransactionTests {
    typealias ICT = InviteClientTransaction
    typealias Driver = ManualClockDriver<ICT>

    static func started(reliable: Bool = false, timerC: Bool = false,
                        settings: TimerSettings = .standard) -> Driver {
        var driver = Driver(ICT(settings: settings, reliable: reliable, usesTimerC: timerC))
        driver.send(.start)
        return driver
    }

    @Test func startUnreliableStartsAandB() {
        var ict = ICT(reliable: false)
        #expect(ict.state == .idle)
        let actions = ict.handle(.start)
        #expect(actions == [.startTimer(.a, milliseconds: 500), .startTimer(.b, milliseconds: 32_000)])
        #expect(ict.state == .calling)
    }

    @Test func startReliableStartsOnlyB() {
        var ict = ICT(reliable: true)
        #expect(ict.handle(.start) == [.startTimer(.b, milliseconds: 32_000)])
    }

    @Test func timerARetransmissionScheduleAndTimerB() {
        var d = Self.started()
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitRequest) == [500, 1_500, 3_500, 7_500, 15_500, 31_500])
        #expect(d.times(of: .timeout(.b)) == [32_000])
        #expect(d.times(of: .terminated) == [32_000])
        #expect(d.machine.state == .terminated)
        #expect(d.machine.isTerminated)
        #expect(d.tracker.activeTimers.isEmpty)
    }

    @Test func timerAIntervalsDouble() {
        var d = Self.started()
        d.advance(to: 3_500)
        #expect(d.log.map(\.action).filter { if case .startTimer(.a, _) = $0 { true } else { false } } == [
            .startTimer(.a, milliseconds: 500), .startTimer(.a, milliseconds: 1_000),
            .startTimer(.a, milliseconds: 2_000), .startTimer(.a, milliseconds: 4_000),
        ])
    }

    @Test func reliableNeverRetransmits() {
        var d = Self.started(reliable: true)
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitRequest) == [])
        #expect(d.times(of: .timeout(.b)) == [32_000])
        #expect(d.machine.isTerminated)
    }

    @Test func customT1ChangesSchedule() {
        var d = Self.started(settings: TimerSettings(t1: 100))
        d.advance(to: 10_000)
        #expect(d.times(of: .retransmitRequest) == [100, 300, 700, 1_500, 3_100, 6_300])
        #expect(d.times(of: .timeout(.b)) == [6_400])
    }

    @Test func heldProvisionalStopsRetransmissionsWithoutPassingUp() {
        var d = Self.started(timerC: true)
        // The UAS answered: the wait for a final is Timer C's (fr_inv_timeout) from now on.
        #expect(d.send(.responseHeld(statusCode: 180)) == [.cancelTimers([.a, .b]), .startTimer(.c, milliseconds: 180_000)])
        #expect(d.machine.state == .proceeding)
        #expect(d.send(.responseHeld(statusCode: 180)) == [])  // its retransmission
        d.advance(to: 10_000)
        #expect(d.times(of: .retransmitRequest) == [])
        // Fed when the TU resumes it: passed up, Timer C reset.
        #expect(d.send(.response(statusCode: 180)) == [.startTimer(.c, milliseconds: 180_000),
                                                        .passResponse(statusCode: 180)])
    }

    @Test func heldNegativeFinalIsAckedAtOnceAndOnlyOnce() {
        var d = Self.started(timerC: true)
        #expect(d.send(.responseHeld(statusCode: 486)) == [.sendAck, .cancelTimers([.a, .b])])
        #expect(d.machine.state == .calling)
        #expect(d.send(.responseHeld(statusCode: 486)) == [.sendAck])  // UAS retransmission: ACK again
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitRequest) == [])
        #expect(d.times(of: .timeout(.b)) == [])
        let resumed = d.send(.response(statusCode: 486))
        #expect(!resumed.contains(.sendAck))
        #expect(resumed.contains(.passResponse(statusCode: 486)))
        #expect(d.machine.state == .completed)
        #expect(d.send(.response(statusCode: 486)) == [.sendAck])
    }

    @Test func heldSuccessStopsTimersAndWaits() {
        var d = Self.started()
        #expect(d.send(.responseHeld(statusCode: 200)) == [.cancelTimers([.a, .b])])
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitRequest) == [])
        #expect(d.times(of: .timeout(.b)) == [])
        #expect(d.machine.state == .calling)
        #expect(d.send(.response(statusCode: 200)).contains(.passResponse(statusCode: 200)))
        #expect(d.machine.state == .accepted)
    }

    @Test func provisionalMovesToProceedingAndStopsRetransmissions() {
        var d = Self.started()
        d.advance(to: 1_000)
        #expect(d.send(.response(statusCode: 180)) == [.cancelTimers([.a, .b]), .passResponse(statusCode: 180)])
        #expect(d.machine.state == .proceeding)
        #expect(d.machine.receivedProvisional)
        #expect(d.send(.response(statusCode: 183)) == [.passResponse(statusCode: 183)])
        d.advance(to: 500_000)
        #expect(d.times(of: .retransmitRequest) == [500])
        #expect(d.machine.state == .proceeding)  // no Timer C: waits for the TU
    }

    @Test func provisionalReliableCancelsOnlyB() {
        var d = Self.started(reliable: true)
        #expect(d.send(.response(statusCode: 100)) == [.cancelTimers(.b), .passResponse(statusCode: 100)])
    }

    @Test(arguments: [false, true])
    func non2xxFinalInCallingSendsAckAndCompletes(reliable: Bool) {
        var d = Self.started(reliable: reliable)
        d.advance(to: 700)
        let actions = d.send(.response(statusCode: 486))
        if reliable {
            #expect(actions == [.sendAck, .cancelTimers(.b), .passResponse(statusCode: 486), .terminated])
            #expect(d.machine.isTerminated)
        } else {
            #expect(actions == [.sendAck, .cancelTimers([.a, .b]), .startTimer(.d, milliseconds: 32_000),
                                .passResponse(statusCode: 486)])
            #expect(d.machine.state == .completed)
            #expect(d.tracker.activeTimers == [.d])
        }
    }

    @Test func completedAbsorbsRetransmittedFinalAndTimerDTerminates() {
        var d = Self.started()
        d.advance(to: 2_000)
        d.send(.response(statusCode: 180))
        #expect(d.send(.response(statusCode: 503)) == [.sendAck, .startTimer(.d, milliseconds: 32_000),
                                                       .passResponse(statusCode: 503)])
        d.advance(to: 3_000)
        #expect(d.send(.response(statusCode: 503)) == [.sendAck])  // not passed up again
        #expect(d.send(.response(statusCode: 180)) == [])
        #expect(d.send(.response(statusCode: 200)) == [])
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [34_000])
        #expect(d.times(of: .passResponse(statusCode: 503)) == [2_000])
        #expect(d.times(of: .retransmitRequest) == [500, 1_500])
    }

    @Test func customTimerD() {
        var d = Self.started(settings: TimerSettings(unreliableTimerD: 40_000))
        d.send(.response(statusCode: 404))
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [40_000])
    }

    @Test func twoXXInCallingEntersAcceptedAndPassesRetransmissions() {
        var d = Self.started()
        d.advance(to: 600)
        #expect(d.send(.response(statusCode: 200)) == [.cancelTimers([.a, .b]), .startTimer(.m, milliseconds: 32_000),
                                                       .passResponse(statusCode: 200)])
        #expect(d.machine.state == .accepted)
        d.advance(to: 4_600)
        // RFC 6026: every 2xx (retransmissions, other forks) goes up to the TU.
        #expect(d.send(.response(statusCode: 200)) == [.passResponse(statusCode: 200)])
        #expect(d.send(.response(statusCode: 202)) == [.passResponse(statusCode: 202)])
        // Non-2xx, provisional and transport errors are ignored in Accepted.
        #expect(d.send(.response(statusCode: 486)) == [])
        #expect(d.send(.response(statusCode: 180)) == [])
        #expect(d.send(.transportError) == [])
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [32_600])
        #expect(d.times(of: .retransmitRequest) == [500])  // none after the 2xx
    }

    @Test func twoXXInProceedingEntersAccepted() {
        var d = Self.started(reliable: true)
        d.send(.response(statusCode: 180))
        #expect(d.send(.response(statusCode: 200)) == [.startTimer(.m, milliseconds: 32_000),
                                                       .passResponse(statusCode: 200)])
        #expect(d.machine.state == .accepted)
        d.advance(to: 32_000)
        #expect(d.machine.isTerminated)
    }

    @Test func transportErrorInIdleCallingCompleted() {
        var idle = ICT(reliable: false)
        #expect(idle.handle(.transportError) == [.transportError, .terminated])
        #expect(idle.isTerminated)

        var calling = Self.started()
        #expect(calling.send(.transportError) == [.transportError, .terminated])
        #expect(calling.tracker.activeTimers.isEmpty)

        var completed = Self.started()
        completed.send(.response(statusCode: 404))
        #expect(completed.send(.transportError) == [.transportError, .terminated])
        #expect(completed.machine.isTerminated)
    }

    @Test func transportErrorIgnoredInProceeding() {
        var d = Self.started()
        d.send(.response(statusCode: 100))
        #expect(d.send(.transportError) == [])
        #expect(d.machine.state == .proceeding)
    }

    @Test func irrelevantEventsIgnored() {
        var ict = ICT(reliable: false)
        // Idle: only start / transportError.
        #expect(ict.handle(.response(statusCode: 200)) == [])
        #expect(ict.handle(.timer(.a)) == [])
        _ = ict.handle(.start)
        #expect(ict.handle(.start) == [])
        #expect(ict.handle(.timer(.d)) == [])
        #expect(ict.handle(.timer(.m)) == [])
        #expect(ict.handle(.timer(.c)) == [])  // Timer C not in use
        #expect(ict.handle(.response(statusCode: 99)) == [])
        #expect(ict.handle(.response(statusCode: 700)) == [])
        #expect(ict.state == .calling)
        _ = ict.handle(.response(statusCode: 180))
        // Stale Timer A / B fire after the cancel raced.
        #expect(ict.handle(.timer(.a)) == [])
        #expect(ict.handle(.timer(.b)) == [])
        #expect(ict.state == .proceeding)
        _ = ict.handle(.response(statusCode: 404))
        #expect(ict.handle(.timer(.a)) == [])
        #expect(ict.handle(.timer(.b)) == [])
        #expect(ict.handle(.timer(.m)) == [])
        _ = ict.handle(.timer(.d))
        #expect(ict.isTerminated)
        for event: ICT.Event in [.start, .timer(.d), .response(statusCode: 404), .response(statusCode: 200), .transportError] {
            #expect(ict.handle(event) == [])
        }
    }

    @Test func reliableIgnoresTimerA() {
        var ict = ICT(reliable: true)
        _ = ict.handle(.start)
        #expect(ict.handle(.timer(.a)) == [])
    }
}

@Suite struct InviteClientTimerCTests {
    typealias ICT = InviteClientTransaction
    typealias Driver = ManualClockDriver<ICT>

    /// OpenSIPS tm: `fr_inv_timeout` (Timer C) counts from the first provisional; before it `fr_timeout`
    /// (Timer B) alone applies.
    @Test func timerCWaitsForTheFirstProvisional() {
        var ict = ICT(reliable: false, usesTimerC: true)
        #expect(ict.handle(.start) == [.startTimer(.a, milliseconds: 500), .startTimer(.b, milliseconds: 32_000)])
    }

    @Test func provisionalResetsTimerCExcept100() {
        var d = Driver(ICT(reliable: false, usesTimerC: true))
        d.send(.start)
        d.advance(to: 1_000)
        #expect(d.send(.response(statusCode: 100)) == [.cancelTimers([.a, .b]), .startTimer(.c, milliseconds: 180_000),
                                                       .passResponse(statusCode: 100)])
        #expect(d.tracker.deadline(of: .c) == 181_000)
        #expect(d.send(.response(statusCode: 100)) == [.passResponse(statusCode: 100)])
        d.advance(to: 50_000)
        #expect(d.send(.response(statusCode: 180)) == [.startTimer(.c, milliseconds: 180_000),
                                                       .passResponse(statusCode: 180)])
        #expect(d.tracker.deadline(of: .c) == 230_000)
    }

    @Test func timerCInProceedingAsksForCancelThenTimesOut() {
        var d = Driver(ICT(reliable: false, usesTimerC: true))
        d.send(.start)
        d.advance(to: 1_000)
        #expect(d.send(.response(statusCode: 180)) == [.cancelTimers([.a, .b]), .startTimer(.c, milliseconds: 180_000),
                                                       .passResponse(statusCode: 180)])
        d.advance(to: 181_000)
        #expect(d.times(of: .timerCExpired) == [181_000])
        #expect(d.machine.timerCFired)
        #expect(d.tracker.deadline(of: .c) == 213_000)  // 64*T1 grace for the CANCEL
        #expect(d.machine.state == .proceeding)
        // A provisional during the grace period does not reset C again.
        #expect(d.send(.response(statusCode: 183)) == [.passResponse(statusCode: 183)])
        d.advance(to: 300_000)
        #expect(d.times(of: .timeout(.c)) == [213_000])
        #expect(d.times(of: .terminated) == [213_000])
    }

    @Test func finalAfterTimerCCancel() {
        var d = Driver(ICT(reliable: false, usesTimerC: true))
        d.send(.start)
        d.send(.response(statusCode: 180))
        d.advance(to: 180_000)
        #expect(d.times(of: .timerCExpired) == [180_000])
        #expect(d.send(.response(statusCode: 487)) == [.sendAck, .cancelTimers(.c), .startTimer(.d, milliseconds: 32_000),
                                                       .passResponse(statusCode: 487)])
        #expect(d.tracker.activeTimers == [.d])
    }

    @Test func twoXXCancelsTimerC() {
        var d = Driver(ICT(reliable: false, usesTimerC: true))
        d.send(.start)
        #expect(d.send(.response(statusCode: 200)) == [.cancelTimers([.a, .b]), .startTimer(.m, milliseconds: 32_000),
                                                       .passResponse(statusCode: 200)])
        #expect(d.tracker.activeTimers == [.m])
    }

    @Test func shortTimerCDoesNotBoundCalling() {
        // C shorter than B (fr_inv_timeout below fr_timeout): with no provisional, B (fr_timeout) decides.
        var d = Driver(ICT(settings: TimerSettings(t1: 500, timerC: 10_000), reliable: true, usesTimerC: true))
        d.send(.start)
        d.advance(to: 60_000)
        #expect(d.times(of: .timeout(.c)) == [])
        #expect(d.times(of: .timeout(.b)) == [32_000])
        #expect(d.machine.isTerminated)
    }
}
