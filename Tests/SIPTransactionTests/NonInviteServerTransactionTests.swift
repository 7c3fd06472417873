import SIPTransaction
import Testing
import TandemTestSupport

@Suite struct NonInviteServerTransactionTests {
    typealias NIST = NonInviteServerTransaction
    typealias Driver = ManualClockDriver<NIST>

    @Test func tryingDiscardsRetransmissions() {
        var nist = NIST(reliable: false)
        #expect(nist.state == .trying)
        #expect(nist.handle(.requestRetransmission) == [])
        #expect(nist.state == .trying)
    }

    @Test func provisionalThenFinal() {
        var d = Driver(NIST(reliable: false))
        #expect(d.send(.tuResponse(statusCode: 100)) == [.sendResponse])
        #expect(d.machine.state == .proceeding)
        #expect(d.send(.requestRetransmission) == [.retransmitResponse])
        #expect(d.send(.tuResponse(statusCode: 180)) == [.sendResponse])
        d.advance(to: 1_000)
        #expect(d.send(.tuResponse(statusCode: 200)) == [.sendResponse, .startTimer(.j, milliseconds: 32_000)])
        #expect(d.machine.state == .completed)
        #expect(d.send(.requestRetransmission) == [.retransmitResponse])
        #expect(d.send(.tuResponse(statusCode: 500)) == [])  // only one final
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [33_000])
    }

    @Test(arguments: [200, 481, 699])
    func finalFromTrying(code: Int) {
        var nist = NIST(reliable: false)
        #expect(nist.handle(.tuResponse(statusCode: code)) == [.sendResponse, .startTimer(.j, milliseconds: 32_000)])
        #expect(nist.state == .completed)
    }

    @Test func customT1ChangesTimerJ() {
        var d = Driver(NIST(settings: TimerSettings(t1: 250), reliable: false))
        d.send(.tuResponse(statusCode: 200))
        d.advance(to: 100_000)
        #expect(d.times(of: .terminated) == [16_000])
    }

    @Test func reliableTerminatesOnFinal() {
        var nist = NIST(reliable: true)
        _ = nist.handle(.tuResponse(statusCode: 100))
        #expect(nist.handle(.tuResponse(statusCode: 200)) == [.sendResponse, .terminated])
        #expect(nist.isTerminated)
    }

    @Test func transportErrors() {
        var trying = NIST(reliable: false)
        #expect(trying.handle(.transportError) == [])  // nothing was sent yet
        var proceeding = NIST(reliable: false)
        _ = proceeding.handle(.tuResponse(statusCode: 100))
        #expect(proceeding.handle(.transportError) == [.transportError, .terminated])
        var completed = Driver(NIST(reliable: false))
        completed.send(.tuResponse(statusCode: 404))
        #expect(completed.send(.transportError) == [.transportError, .terminated])
        #expect(completed.tracker.activeTimers.isEmpty)
    }

    @Test func irrelevantEventsIgnored() {
        var nist = NIST(reliable: false)
        #expect(nist.handle(.timer(.j)) == [])
        #expect(nist.handle(.tuResponse(statusCode: 42)) == [])
        #expect(nist.handle(.tuResponse(statusCode: 700)) == [])
        _ = nist.handle(.tuResponse(statusCode: 200))
        #expect(nist.handle(.timer(.g)) == [])
        #expect(nist.handle(.tuResponse(statusCode: 100)) == [])
        _ = nist.handle(.timer(.j))
        #expect(nist.isTerminated)
        for event: NIST.Event in [.requestRetransmission, .tuResponse(statusCode: 200), .timer(.j), .transportError] {
            #expect(nist.handle(event) == [])
        }
    }
}
