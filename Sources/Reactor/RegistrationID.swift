/// Identifies one descriptor registration in a ``Reactor``. The generation makes ids of deregistered
/// (and recycled) slots stale: events and calls carrying an old id are ignored.
public struct RegistrationID: Hashable, Sendable, CustomStringConvertible {
    let index: UInt32
    let generation: UInt32

    init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }

    /// The value stored in `epoll_event.data.u64`: generation in the high 32 bits, slot in the low.
    var epollData: UInt64 { UInt64(generation) << 32 | UInt64(index) }

    init(epollData: UInt64) {
        index = UInt32(truncatingIfNeeded: epollData)
        generation = UInt32(truncatingIfNeeded: epollData >> 32)
    }

    public var description: String { "RegistrationID(\(index)#\(generation))" }
}
