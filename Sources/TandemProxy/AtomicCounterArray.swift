import Synchronization

/// A fixed-size array of relaxed atomic counters (per SIP method, per status code), for lock-free
/// counting on the packet path.
///
/// `@unchecked Sendable`: every element is an `Atomic` in a buffer allocated in `init`, never
/// resized, freed in `deinit`; only atomic operations touch it.
public final class AtomicCounterArray: @unchecked Sendable {
    /// Number of counters.
    public let count: Int
    private let slots: UnsafeMutablePointer<Atomic<Int>>

    /// Creates `count` counters at 0.
    public init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        for i in 0..<count { (slots + i).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Adds 1 to counter `index` (ignored when out of range).
    @inline(__always)
    public func increment(_ index: Int) {
        guard index >= 0 && index < count else { return }
        slots[index].add(1, ordering: .relaxed)
    }

    /// The value of counter `index` (0 when out of range).
    public func value(at index: Int) -> Int {
        guard index >= 0 && index < count else { return 0 }
        return slots[index].load(ordering: .relaxed)
    }
}
