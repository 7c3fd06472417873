/// A priority queue of timers keyed by (deadline, sequence): the earliest deadline first, and FIFO among
/// equal deadlines. Pure value type with no clock of its own: callers pass times in, so it is
/// unit-testable with manual time.
///
/// Implementation: an indexed binary min-heap. Each timer lives in a slot that remembers its heap
/// position, so ``cancel(_:)`` removes it eagerly in O(log n) — no tombstones, so memory stays bounded
/// by the peak number of *live* timers (100k scheduled and mostly cancelled stays cheap). Slots are
/// recycled through a free list; the whole table is released when the queue drains.
public struct TimerQueue<Payload> {

    struct Entry: Sendable {
        var deadline: UInt64
        var sequence: UInt64
        var slot: UInt32

        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && sequence < other.sequence)
        }
    }


    struct Slot {
        /// Sequence of the occupying timer (`UInt64.max` when free).
        var sequence: UInt64
        /// Position in `heap` (-1 when free).
        var heapIndex: Int
        var payload: Payload?
    }

    var heap: [Entry] = []
    var slots: [Slot] = []
    var freeSlots: [UInt32] = []
    /// The sequence number the next scheduled timer will get.
    public private(set) var nextSequence: UInt64 = 0

    /// Creates an empty queue.
    public init() {}

    /// Number of pending timers.
    public var count: Int { heap.count }

    /// Whether no timer is pending.
    public var isEmpty: Bool { heap.isEmpty }

    /// The earliest pending deadline.
    public var nextDeadline: Deadline? {
        heap.first.map { Deadline(nanoseconds: $0.deadline) }
    }

    /// Number of slots allocated (live + free); for tests and diagnostics.
    public var slotCapacity: Int { slots.count }

    /// Adds a timer firing at `deadline`.
    public mutating func schedule(at deadline: Deadline, _ payload: Payload) -> TimerID {
        let sequence = nextSequence
        nextSequence &+= 1
        let slotIndex: UInt32
        if let free = freeSlots.popLast() {
            slotIndex = free
            slots[Int(free)] = Slot(sequence: sequence, heapIndex: heap.count, payload: payload)
        } else {
            precondition(slots.count < Int(UInt32.max), "too many timers")
            slotIndex = UInt32(slots.count)
            slots.append(Slot(sequence: sequence, heapIndex: heap.count, payload: payload))
        }
        heap.append(Entry(deadline: deadline.nanoseconds, sequence: sequence, slot: slotIndex))
        siftUp(heap.count - 1)
        return TimerID(slot: slotIndex, sequence: sequence)
    }

    /// Whether `id` is still pending.
    public func contains(_ id: TimerID) -> Bool {
        Int(id.slot) < slots.count && slots[Int(id.slot)].sequence == id.sequence
    }

    /// The deadline of a pending timer.
    public func deadline(of id: TimerID) -> Deadline? {
        guard contains(id) else { return nil }
        return Deadline(nanoseconds: heap[slots[Int(id.slot)].heapIndex].deadline)
    }

    /// Removes a pending timer and returns its payload; `nil` if it already fired or was cancelled.
    @discardableResult
    public mutating func cancel(_ id: TimerID) -> Payload? {
        guard contains(id) else { return nil }
        let position = slots[Int(id.slot)].heapIndex
        removeFromHeap(at: position)
        return releaseSlot(id.slot)
    }

    /// Removes and returns the earliest timer if its deadline is `<= now` and its sequence is
    /// `< sequenceLimit` (pass the ``nextSequence`` observed before a dispatch round so timers scheduled
    /// by callbacks during that round wait for the next one).
    public mutating func popDue(now: Deadline, sequenceLimit: UInt64 = .max) -> (id: TimerID, payload: Payload)? {
        guard let first = heap.first, first.deadline <= now.nanoseconds, first.sequence < sequenceLimit else {
            return nil
        }
        removeFromHeap(at: 0)
        let payload = releaseSlot(first.slot)!
        return (TimerID(slot: first.slot, sequence: first.sequence), payload)
    }

    /// Drops every timer.
    public mutating func removeAll() {
        heap = []
        slots = []
        freeSlots = []
    }

    // MARK: - Heap internals

    private mutating func releaseSlot(_ slot: UInt32) -> Payload? {
        let index = Int(slot)
        let payload = slots[index].payload
        if heap.isEmpty && slots.count > 1024 {
            // Drained after a burst: give the memory back. Sequences stay unique, so old IDs stay dead.
            slots = []
            freeSlots = []
        } else {
            slots[index] = Slot(sequence: .max, heapIndex: -1, payload: nil)
            freeSlots.append(slot)
        }
        return payload
    }

    private mutating func removeFromHeap(at position: Int) {
        let last = heap.removeLast()
        guard position < heap.count else { return }
        heap[position] = last
        slots[Int(last.slot)].heapIndex = position
        if position > 0 && last.precedes(heap[(position - 1) / 2]) {
            siftUp(position)
        } else {
            siftDown(position)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var index = start
        let entry = heap[index]
        while index > 0 {
            let parent = (index - 1) / 2
            let parentEntry = heap[parent]
            guard entry.precedes(parentEntry) else { break }
            heap[index] = parentEntry
            slots[Int(parentEntry.slot)].heapIndex = index
            index = parent
        }
        heap[index] = entry
        slots[Int(entry.slot)].heapIndex = index
    }

    private mutating func siftDown(_ start: Int) {
        var index = start
        let entry = heap[index]
        let count = heap.count
        while true {
            let left = 2 * index + 1
            if left >= count { break }
            var child = left
            let right = left + 1
            if right < count && heap[right].precedes(heap[left]) { child = right }
            let childEntry = heap[child]
            guard childEntry.precedes(entry) else { break }
            heap[index] = childEntry
            slots[Int(childEntry.slot)].heapIndex = index
            index = child
        }
        heap[index] = entry
        slots[Int(entry.slot)].heapIndex = index
    }
}

extension TimerQueue: Sendable where Payload: Sendable {}
extension TimerQueue.Slot: Sendable where Payload: Sendable {}
