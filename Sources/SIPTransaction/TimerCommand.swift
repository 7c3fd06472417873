/// What a timer-related action asks the owner of a transaction to do.
///
/// Obtained from any machine's action through `TransactionAction.timerCommand`,
/// so generic code (such as `TransactionTimerTracker`) can follow timers without
/// knowing the machine.
public enum TimerCommand: Sendable, Hashable {
    /// Start (or restart, replacing the running instance) `timer` to fire after `milliseconds`.
    case start(TransactionTimer, milliseconds: Int64)
    /// Cancel the timers in the set (those not running are ignored).
    case cancel(TimerSet)
}
