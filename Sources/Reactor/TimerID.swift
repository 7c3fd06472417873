/// Identifies one scheduled timer in a ``TimerQueue`` / ``Reactor``. Never reused: the sequence number
/// is unique per queue, so cancelling a timer that already fired (or was cancelled) is a harmless no-op.
public struct TimerID: Hashable, Sendable, CustomStringConvertible {
    // `sequence` first: the slot then ends the value (12 bytes, 13 for `TimerID?`, where the slot's
    // alignment padding made them 16 and 17), so an optional timer kept next to another fills less of
    // the object holding it (issue 19: memory per suspended transaction, `NativeContext`).
    /// Unique schedule sequence number (also the FIFO tie-breaker).
    public let sequence: UInt64
    /// Slot in the queue's slot table.
    let slot: UInt32


    init(slot: UInt32, sequence: UInt64) {
        self.slot = slot
        self.sequence = sequence
    }

    public var description: String { "TimerID(\(sequence))" }
}
