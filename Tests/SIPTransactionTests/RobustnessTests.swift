import SIPTransaction
import TandemTestSupport
import Testing

@Suite struct RobustnessTests {
    static let codes = [0, 99, 100, 180, 183, 200, 202, 302, 404, 486, 487, 500, 603, 699, 700]

    /// Feeds random events; checks no crash, terminated is absorbing, and the
    /// tracker never holds timers after termination.
    func exercise<M: TransactionMachine>(_ make: () -> M, events: [M.Event], seed: UInt64)
        where M.Action: Equatable {
        var rng = SplitMix64(state: seed)
        for _ in 0..<300 {
            var machine = make()
            var tracker = TransactionTimerTracker()
            var now: Int64 = 0
            for _ in 0..<40 {
                let event = events.randomElement(using: &rng)!
                now += Int64.random(in: 0...2_000, using: &rng)
                let wasTerminated = machine.isTerminated
                let actions = machine.handle(event)
                #expect(actions.count <= TransactionActions<M.Action>.capacity)
                if wasTerminated { #expect(actions.isEmpty) }
                tracker.apply(actions, at: now)
                if machine.isTerminated { #expect(tracker.activeTimers.isEmpty) }
                if actions.contains(where: \.isTermination) { #expect(machine.isTerminated) }
            }
        }
    }

    static func timers<E: TransactionEvent>(_ type: E.Type) -> [E] { TransactionTimer.allCases.map { E.timer($0) } }

    @Test(arguments: [false, true])
    func ict(reliable: Bool) {
        let events = Self.timers(InviteClientTransaction.Event.self)
            + Self.codes.map { .response(statusCode: $0) } + [.start, .transportError]
        exercise({ InviteClientTransaction(reliable: reliable, usesTimerC: true) }, events: events, seed: 1)
        exercise({ InviteClientTransaction(reliable: reliable) }, events: events, seed: 2)
    }

    @Test(arguments: [false, true])
    func nict(reliable: Bool) {
        let events = Self.timers(NonInviteClientTransaction.Event.self)
            + Self.codes.map { .response(statusCode: $0) } + [.start, .transportError]
        exercise({ NonInviteClientTransaction(reliable: reliable) }, events: events, seed: 3)
    }

    @Test(arguments: [false, true])
    func ist(reliable: Bool) {
        let events = Self.timers(InviteServerTransaction.Event.self)
            + Self.codes.map { .tuResponse(statusCode: $0) } + [.start, .ack, .requestRetransmission, .transportError]
        exercise({ InviteServerTransaction(reliable: reliable) }, events: events, seed: 4)
        exercise({ InviteServerTransaction(reliable: reliable, tryingPolicy: .leftToTU) }, events: events, seed: 5)
    }

    @Test(arguments: [false, true])
    func nist(reliable: Bool) {
        let events = Self.timers(NonInviteServerTransaction.Event.self)
            + Self.codes.map { .tuResponse(statusCode: $0) } + [.requestRetransmission, .transportError]
        exercise({ NonInviteServerTransaction(reliable: reliable) }, events: events, seed: 6)
    }
}
