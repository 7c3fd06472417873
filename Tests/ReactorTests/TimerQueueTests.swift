import TandemTestSupport
import Testing
@testable import Reactor

@Suite struct TimerQueueTests {
    private func at(_ ms: UInt64) -> Deadline { Deadline(nanoseconds: ms * 1_000_000) }

    @Test func popsInDeadlineOrder() {
        var queue = TimerQueue<Int>()
        for ms: UInt64 in [50, 10, 40, 20, 30] { _ = queue.schedule(at: at(ms), Int(ms)) }
        #expect(queue.nextDeadline == at(10))
        var fired: [Int] = []
        while let (_, value) = queue.popDue(now: at(1000)) { fired.append(value) }
        #expect(fired == [10, 20, 30, 40, 50])
        #expect(queue.isEmpty)
    }

    @Test func fifoAmongEqualDeadlines() {
        var queue = TimerQueue<Int>()
        for i in 0..<100 { _ = queue.schedule(at: at(5), i) }
        var fired: [Int] = []
        while let (_, value) = queue.popDue(now: at(5)) { fired.append(value) }
        #expect(fired == Array(0..<100))
    }

    @Test func onlyDueTimersPop() {
        var queue = TimerQueue<String>()
        _ = queue.schedule(at: at(10), "a")
        _ = queue.schedule(at: at(20), "b")
        #expect(queue.popDue(now: at(9)) == nil)
        #expect(queue.popDue(now: at(10))?.payload == "a")
        #expect(queue.popDue(now: at(19)) == nil)
        #expect(queue.popDue(now: at(25))?.payload == "b")
        #expect(queue.nextDeadline == nil)
    }

    @Test func cancelRemovesAndIsIdempotent() {
        var queue = TimerQueue<Int>()
        let a = queue.schedule(at: at(10), 1)
        let b = queue.schedule(at: at(20), 2)
        let c = queue.schedule(at: at(30), 3)
        #expect(queue.cancel(b) == 2)
        #expect(queue.cancel(b) == nil)
        #expect(!queue.contains(b))
        #expect(queue.count == 2)
        #expect(queue.deadline(of: c) == at(30))
        #expect(queue.popDue(now: at(100))?.id == a)
        #expect(queue.cancel(a) == nil, "already fired")
        #expect(queue.popDue(now: at(100))?.payload == 3)
    }

    @Test func staleIdDoesNotCancelRecycledSlot() {
        var queue = TimerQueue<Int>()
        let old = queue.schedule(at: at(1), 1)
        _ = queue.cancel(old)
        let new = queue.schedule(at: at(2), 2)  // reuses the slot
        #expect(queue.cancel(old) == nil)
        #expect(queue.contains(new))
        #expect(queue.count == 1)
    }

    @Test func sequenceLimitDefersTimersAddedDuringRound() {
        var queue = TimerQueue<Int>()
        _ = queue.schedule(at: at(1), 1)
        let limit = queue.nextSequence
        _ = queue.schedule(at: at(0), 2)  // "scheduled by a callback" — earlier deadline, later sequence
        #expect(queue.popDue(now: at(5), sequenceLimit: limit) == nil, "head is the new timer, held back")
        #expect(queue.popDue(now: at(5))?.payload == 2)
        #expect(queue.popDue(now: at(5), sequenceLimit: limit)?.payload == 1)
    }

    @Test func randomizedAgainstSortedReference() {
        var rng = SplitMix64(state: 42)
        var queue = TimerQueue<Int>()
        var reference: [(deadline: UInt64, seq: Int, id: TimerID)] = []
        for i in 0..<5000 {
            let d = rng.next() % 1000
            let id = queue.schedule(at: Deadline(nanoseconds: d), i)
            reference.append((d, i, id))
            if rng.next() % 3 == 0, !reference.isEmpty {
                let victim = reference.remove(at: Int(rng.next() % UInt64(reference.count)))
                #expect(queue.cancel(victim.id) == victim.seq)
            }
        }
        reference.sort { ($0.deadline, $0.seq) < ($1.deadline, $1.seq) }
        var popped: [Int] = []
        while let (_, value) = queue.popDue(now: Deadline(nanoseconds: 1000)) { popped.append(value) }
        #expect(popped == reference.map(\.seq))
    }

    @Test func manyTimersMostlyCancelledStayCheap() {
        var queue = TimerQueue<Int>()
        var ids: [TimerID] = []
        ids.reserveCapacity(100_000)
        for i in 0..<100_000 { ids.append(queue.schedule(at: at(UInt64(i % 977) + 1), i)) }
        for (i, id) in ids.enumerated() where i % 100 != 0 { #expect(queue.cancel(id) != nil) }
        #expect(queue.count == 1000)
        // Freed slots are recycled: a second wave does not grow the table.
        let capacity = queue.slotCapacity
        for i in 0..<50_000 { _ = queue.cancel(queue.schedule(at: at(5), i)) }
        #expect(queue.slotCapacity == capacity)
        var last = Deadline(nanoseconds: 0)
        var n = 0
        while let (id, value) = queue.popDue(now: at(10_000)) {
            #expect(value % 100 == 0)
            _ = id
            let d = at(UInt64(value % 977) + 1)
            #expect(d >= last)
            last = d
            n += 1
        }
        #expect(n == 1000)
        #expect(queue.slotCapacity == 0, "table released once drained")
    }
}

