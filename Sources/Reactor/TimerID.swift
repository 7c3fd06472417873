/// Identifies one scheduled timer in a ``TimerQueue`` / ``Reactor``. Never reused: the sequence number
/// is unique per queue, so cancelling a timer that already fired (or was cancelled) is a harmless no-op.
public struct TimerID: Hashable, Sendable, CustomStringConvertible {
    /// Slot in the queue's slot table.
    let slot: UInt32
    /// Unique schedule sequence number (also the FIFO tie-breaker).
    public let sequence: UInt64


    init(slot: UInt32, sequence: UInt64) {
        self.slot = slot
        self.sequence = sequence
    }

    public var description: String { "TimerID(\(sequence))" }
}
