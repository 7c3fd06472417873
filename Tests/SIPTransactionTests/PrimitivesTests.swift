import SIPTransaction
import Testing

@Suite struct TransactionActionsTests {
    typealias Actions = TransactionActions<InviteClientTransaction.Action>

    @Test func emptyAndLiteral() {
        let empty = Actions()
        #expect(empty.isEmpty)
        #expect(empty.count == 0)
        #expect(Array(empty) == [])

        let four: Actions = [.sendAck, .retransmitRequest, .timerCExpired, .terminated]
        #expect(four.count == Actions.capacity)
        #expect(four[0] == .sendAck)
        #expect(four[3] == .terminated)
        #expect(Array(four) == [.sendAck, .retransmitRequest, .timerCExpired, .terminated])
        #expect(four.last == .terminated)
        #expect(four.reversed().first == .terminated)
    }

    @Test func equalityAndHashing() {
        let a: Actions = [.sendAck, .passResponse(statusCode: 486)]
        let b: Actions = [.sendAck, .passResponse(statusCode: 486)]
        let c: Actions = [.sendAck]
        #expect(a == b)
        #expect(a != c)
        #expect(Set([a, b, c]).count == 2)
        #expect(a.description == "[sendAck, passResponse(statusCode: 486)]")
    }

    @Test func storedInline() {
        // Fixed-size value: four optional slots plus a count, no buffer pointer.
        #expect(MemoryLayout<Actions>.size <= 4 * MemoryLayout<InviteClientTransaction.Action?>.stride + 8)
    }
}

@Suite struct TimerSetTests {
    @Test func insertRemoveIterate() {
        var set: TimerSet = [.h, .a, .m]
        #expect(set.count == 3)
        #expect(set.contains(.a))
        #expect(!set.contains(.b))
        #expect(Array(set) == [.a, .h, .m])
        set.remove(.h)
        set.insert(.c)
        #expect(Array(set) == [.a, .c, .m])
        #expect(set.description == "[A, C, M]")
        #expect(TimerSet().isEmpty)
        #expect(TimerSet.a.union(.b) == [.a, .b])
        #expect(TimerSet(TransactionTimer.g) == .g)
        #expect(Array(TimerSet(rawValue: 0x1FFF)) == TransactionTimer.allCases)
    }

    @Test func timerDescriptions() {
        #expect(TransactionTimer.a.description == "Timer A")
        #expect(TransactionTimer.m.description == "Timer M")
    }
}

@Suite struct TransactionTimerTrackerTests {
    typealias Action = InviteClientTransaction.Action

    @Test func startRestartCancel() {
        var tracker = TransactionTimerTracker()
        let a1 = tracker.start(.a, milliseconds: 500, at: 1_000)
        #expect(a1.deadline == 1_500)
        #expect(tracker.isActive(.a))
        #expect(tracker.isCurrent(.a, generation: a1.generation))
        let a2 = tracker.start(.a, milliseconds: 1_000, at: 1_500)
        #expect(a2.generation != a1.generation)
        #expect(!tracker.isCurrent(.a, generation: a1.generation))
        #expect(tracker.deadline(of: .a) == 2_500)
        tracker.cancel(.a)
        #expect(!tracker.isActive(.a))
        #expect(tracker.deadline(of: .a) == nil)
        #expect(!tracker.isCurrent(.a, generation: a2.generation))
        #expect(tracker.next == nil)
    }

    @Test func appliesActionsAndClearsOnTermination() {
        var tracker = TransactionTimerTracker()
        let actions: TransactionActions<Action> = [
            .startTimer(.a, milliseconds: 500), .startTimer(.b, milliseconds: 32_000), .passResponse(statusCode: 100),
        ]
        tracker.apply(actions, at: 0)
        #expect(tracker.activeTimers == [.a, .b])
        #expect(tracker.nextDeadline == 500)
        let cancelled = tracker.apply(Action.cancelTimers([.a]), at: 10)
        #expect(cancelled == nil)
        #expect(tracker.activeTimers == [.b])
        let scheduled = tracker.apply(Action.startTimer(.d, milliseconds: 32_000), at: 10)
        #expect(scheduled?.timer == .d)
        #expect(scheduled?.deadline == 32_010)
        tracker.apply(Action.terminated, at: 20)
        #expect(tracker.activeTimers.isEmpty)
    }

    @Test func dueTimersAndPopOrder() {
        var tracker = TransactionTimerTracker()
        tracker.start(.h, milliseconds: 300, at: 0)
        tracker.start(.g, milliseconds: 300, at: 0)  // same deadline, started later
        tracker.start(.i, milliseconds: 100, at: 0)
        tracker.start(.l, milliseconds: 900, at: 0)
        #expect(tracker.dueTimers(at: 99).isEmpty)
        #expect(tracker.dueTimers(at: 300) == [.g, .h, .i])
        var popped: [TransactionTimer] = []
        while let due = tracker.popDue(at: 300) { popped.append(due.timer) }
        #expect(popped == [.i, .h, .g])
        #expect(tracker.activeTimers == [.l])
        #expect(tracker.nextDeadline == 900)
    }

    @Test func fireGatesStaleCallbacks() {
        var tracker = TransactionTimerTracker()
        let old = tracker.start(.e, milliseconds: 500, at: 0)
        let new = tracker.start(.e, milliseconds: 1_000, at: 500)
        let staleFired = tracker.fire(.e, generation: old.generation)
        let currentFired = tracker.fire(.e, generation: new.generation)
        let againFired = tracker.fire(.e, generation: new.generation)  // already fired
        #expect(!staleFired)
        #expect(currentFired)
        #expect(!againFired)
        #expect(!tracker.isActive(.e))
    }

    @Test func deadlineSaturatesInsteadOfOverflowing() {
        var tracker = TransactionTimerTracker()
        let far = tracker.start(.c, milliseconds: .max, at: 10)
        let negative = tracker.start(.c, milliseconds: -5, at: 10)
        #expect(far.deadline == .max)
        #expect(negative.deadline == 10)
    }
}

@Suite struct TimerSettingsStorageTests {
    /// The values live in one shared object (a machine holds one reference: issue 19, memory per
    /// suspended transaction); equality and hashing stay by value.
    @Test func sharedStorageComparesByValue() {
        #expect(MemoryLayout<TimerSettings>.size == 8)
        let a = TimerSettings(t1: 250, finalResponseTimeout: 4_000)
        let b = TimerSettings(t1: 250, finalResponseTimeout: 4_000)
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != TimerSettings(t1: 250))
        #expect(TimerSettings() == .standard)
        #expect(a.t1 == 250 && a.t2 == 4_000 && a.timerB == 4_000 && a.timerH == 16_000)
        let clamped = TimerSettings(t1: 0, t2: -1, t4: -1, unreliableTimerD: -1, timerC: 0, finalResponseTimeout: 0)
        #expect(clamped.t1 == 1 && clamped.t2 == 1 && clamped.t4 == 0 && clamped.unreliableTimerD == 0)
        #expect(clamped.timerC == 1 && clamped.finalResponseTimeout == 1)
    }
}
