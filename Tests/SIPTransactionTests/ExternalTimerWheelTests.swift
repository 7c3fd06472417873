import SIPTransaction
import Testing

/// The proxy's pattern: a timer wheel that cannot cancel entries. Every start
/// goes into the wheel with its generation; when an entry fires, the tracker's
/// `fire(_:generation:)` decides whether it is still current.
@Suite struct ExternalTimerWheelTests {
    @Test func staleWheelEntriesAreDropped() {
        var ict = InviteClientTransaction(reliable: false)
        var tracker = TransactionTimerTracker()
        var wheel: [ScheduledTimer] = []
        var retransmitTimes: [Int64] = []
        var timeouts = 0

        func perform(_ actions: TransactionActions<InviteClientTransaction.Action>, at now: Int64) {
            for action in actions {
                if let scheduled = tracker.apply(action, at: now) { wheel.append(scheduled) }
                if action == .retransmitRequest { retransmitTimes.append(now) }
                if case .timeout = action { timeouts += 1 }
            }
        }

        perform(ict.handle(.start), at: 0)
        // Run the wheel to 1 s, then a 180 arrives.
        func runWheel(until time: Int64) {
            while let index = wheel.indices.min(by: { wheel[$0].deadline < wheel[$1].deadline }),
                  wheel[index].deadline <= time {
                let entry = wheel.remove(at: index)
                guard tracker.fire(entry.timer, generation: entry.generation) else { continue }
                perform(ict.handle(.timer(entry.timer)), at: entry.deadline)
            }
        }
        runWheel(until: 1_000)
        perform(ict.handle(.response(statusCode: 180)), at: 1_000)
        #expect(wheel.count == 2)  // stale A (1.5 s) and B (32 s) remain in the wheel
        runWheel(until: 100_000)
        #expect(retransmitTimes == [500])
        #expect(timeouts == 0)
        #expect(ict.state == .proceeding)
        #expect(wheel.isEmpty)
    }
}
