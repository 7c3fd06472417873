import SIPTransaction
import Testing
import TandemTestSupport

@Suite struct InviteServerTransactionTests {
    typealias IST = InviteServerTransaction
    typealias Driver = ManualClockDriver<IST>

    static func started(reliable: Bool = false, settings: TimerSettings = .standard,
                        policy: IST.TryingPolicy = .immediately) -> Driver {
        var driver = Driver(IST(settings: settings, reliable: reliable, tryingPolicy: policy))
        driver.send(.start)
        return driver
    }

    @Test func startSendsTryingOnceByDefault() {
        var ist = IST(reliable: false)
        #expect(ist.state == .proceeding)
        #expect(ist.handle(.start) == [.sendTrying])
        #expect(ist.sentProvisional)
        #expect(ist.handle(.start) == [])
        #expect(ist.handle(.requestRetransmission) == [.retransmitResponse])
    }

    @Test func tryingLeftToTU() {
        var ist = IST(reliable: false, tryingPolicy: .leftToTU)
        #expect(ist.handle(.start) == [])
        // Nothing to resend yet: retransmission absorbed.
        #expect(ist.handle(.requestRetransmission) == [])
        #expect(ist.handle(.tuResponse(statusCode: 100)) == [.sendResponse])
        #expect(ist.handle(.requestRetransmission) == [.retransmitResponse])
    }

    @Test func tuAnsweringBeforeStartSuppressesTrying() {
        var ist = IST(reliable: false)
        #expect(ist.handle(.tuResponse(statusCode: 180)) == [.sendResponse])
        #expect(ist.handle(.start) == [])
    }

    @Test func provisionalsSentWithoutStateChange() {
        var d = Self.started()
        #expect(d.send(.tuResponse(statusCode: 180)) == [.sendResponse])
        #expect(d.send(.tuResponse(statusCode: 183)) == [.sendResponse])
        #expect(d.machine.state == .proceeding)
        #expect(d.send(.requestRetransmission) == [.retransmitResponse])
        d.advance(to: 500_000)  // no timers in Proceeding
        #expect(d.machine.state == .proceeding)
    }

    @Test func timerGRetransmissionScheduleAndTimerH() {
        var d = Self.started()
        #expect(d.send(.tuResponse(statusCode: 486)) == [.sendResponse, .startTimer(.g, milliseconds: 500),
                                                         .startTimer(.h, milliseconds: 32_000)])
        #expect(d.machine.state == .completed)
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitResponse) == [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500,
                                                     27_500, 31_500])
        #expect(d.times(of: .timeout(.h)) == [32_000])
        #expect(d.times(of: .terminated) == [32_000])
        #expect(d.machine.isTerminated)
    }

    @Test func customT1T2ChangeTimerG() {
        var d = Self.started(settings: TimerSettings(t1: 200, t2: 1_000))
        d.send(.tuResponse(statusCode: 404))
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitResponse).prefix(6) == [200, 600, 1_400, 2_400, 3_400, 4_400])
        #expect(d.times(of: .timeout(.h)) == [12_800])
    }

    @Test func ackConfirmsAndTimerITerminates() {
        var d = Self.started()
        d.send(.tuResponse(statusCode: 603))
        d.advance(to: 2_000)
        #expect(d.send(.requestRetransmission) == [.retransmitResponse])
        #expect(d.send(.ack) == [.cancelTimers([.g, .h]), .startTimer(.i, milliseconds: 5_000)])
        #expect(d.machine.state == .confirmed)
        // ACK and INVITE retransmissions are absorbed in Confirmed.
        #expect(d.send(.ack) == [])
        #expect(d.send(.requestRetransmission) == [])
        #expect(d.send(.transportError) == [])
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [7_000])
        #expect(d.times(of: .retransmitResponse) == [500, 1_500, 2_000])
        #expect(d.times(of: .timeout(.h)) == [])
    }

    @Test func customT4ChangesTimerI() {
        var d = Self.started(settings: TimerSettings(t4: 1_000))
        d.send(.tuResponse(statusCode: 480))
        d.send(.ack)
        d.advance(to: 10_000)
        #expect(d.times(of: .terminated) == [1_000])
    }

    @Test func reliableNoGAndImmediateTerminationOnAck() {
        var d = Self.started(reliable: true)
        #expect(d.send(.tuResponse(statusCode: 486)) == [.sendResponse, .startTimer(.h, milliseconds: 32_000)])
        #expect(d.send(.requestRetransmission) == [.retransmitResponse])
        #expect(d.send(.ack) == [.cancelTimers(.h), .terminated])
        #expect(d.machine.isTerminated)
        #expect(d.tracker.activeTimers.isEmpty)
    }

    @Test func reliableTimerH() {
        var d = Self.started(reliable: true)
        d.send(.tuResponse(statusCode: 486))
        d.advance(to: 100_000)
        #expect(d.times(of: .retransmitResponse) == [])
        #expect(d.times(of: .timeout(.h)) == [32_000])
    }

    @Test(arguments: [false, true])
    func twoXXEntersAcceptedPerRFC6026(reliable: Bool) {
        var d = Self.started(reliable: reliable)
        d.advance(to: 1_000)
        #expect(d.send(.tuResponse(statusCode: 200)) == [.sendResponse, .startTimer(.l, milliseconds: 32_000)])
        #expect(d.machine.state == .accepted)
        // INVITE retransmissions are absorbed; the UAS retransmits the 2xx through the TU.
        #expect(d.send(.requestRetransmission) == [])
        d.advance(to: 1_500)
        #expect(d.send(.tuResponse(statusCode: 200)) == [.sendResponse])
        #expect(d.send(.tuResponse(statusCode: 486)) == [])
        #expect(d.send(.tuResponse(statusCode: 180)) == [])
        // The ACK for the 2xx is passed up (every copy).
        #expect(d.send(.ack) == [.passAck])
        #expect(d.send(.ack) == [.passAck])
        // A transport error is reported but does not end the transaction.
        #expect(d.send(.transportError) == [.transportError])
        #expect(d.machine.state == .accepted)
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [33_000])
        #expect(d.times(of: .retransmitResponse) == [])  // never retransmits 2xx itself
    }

    @Test func transportErrorsInProceedingAndCompleted() {
        var proceeding = Self.started()
        #expect(proceeding.send(.transportError) == [.transportError, .terminated])
        #expect(proceeding.machine.isTerminated)
        var completed = Self.started()
        completed.send(.tuResponse(statusCode: 500))
        #expect(completed.send(.transportError) == [.transportError, .terminated])
        #expect(completed.tracker.activeTimers.isEmpty)
    }

    @Test func irrelevantEventsIgnored() {
        var ist = IST(reliable: false)
        _ = ist.handle(.start)
        #expect(ist.handle(.ack) == [])  // ACK before any final
        #expect(ist.handle(.timer(.g)) == [])
        #expect(ist.handle(.timer(.h)) == [])
        #expect(ist.handle(.timer(.l)) == [])
        #expect(ist.handle(.tuResponse(statusCode: 99)) == [])
        #expect(ist.handle(.tuResponse(statusCode: 700)) == [])
        #expect(ist.state == .proceeding)
        _ = ist.handle(.tuResponse(statusCode: 404))
        #expect(ist.handle(.start) == [])
        #expect(ist.handle(.tuResponse(statusCode: 180)) == [])
        #expect(ist.handle(.tuResponse(statusCode: 200)) == [])
        #expect(ist.handle(.timer(.i)) == [])
        #expect(ist.handle(.timer(.l)) == [])
        _ = ist.handle(.ack)
        #expect(ist.state == .confirmed)
        #expect(ist.handle(.timer(.g)) == [])  // stale G after cancel
        #expect(ist.handle(.timer(.h)) == [])  // stale H after cancel
        #expect(ist.handle(.tuResponse(statusCode: 200)) == [])
        _ = ist.handle(.timer(.i))
        #expect(ist.isTerminated)
        for event: IST.Event in [.start, .ack, .requestRetransmission, .tuResponse(statusCode: 200), .timer(.h),
                                 .transportError] {
            #expect(ist.handle(event) == [])
        }
    }

    @Test func reliableIgnoresTimerG() {
        var ist = IST(reliable: true)
        _ = ist.handle(.tuResponse(statusCode: 500))
        #expect(ist.handle(.timer(.g)) == [])
    }
}
