/// One running timer as recorded by `TransactionTimerTracker`: which timer,
/// when it is due (in the caller's millisecond time base) and its generation.
///
/// Generations increase with every start (tracker-wide), so a reactor callback
/// carrying `(timer, generation)` can be checked for staleness with
/// `TransactionTimerTracker.isCurrent(_:generation:)`.
public struct ScheduledTimer: Sendable, Hashable {
    /// The timer kind.
    public var timer: TransactionTimer
    /// Absolute due time in milliseconds (caller's time base).
    public var deadline: Int64
    /// Start sequence number; unique per start within one tracker.
    public var generation: UInt64

    public init(timer: TransactionTimer, deadline: Int64, generation: UInt64) {
        self.timer = timer
        self.deadline = deadline
        self.generation = generation
    }
}
