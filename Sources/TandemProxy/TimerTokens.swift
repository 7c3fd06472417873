import SIPTransaction

/// Generation numbers for the timers of one transaction machine.
///
/// Reactor timers are never cancelled across threads: a timer that fires after its machine restarted
/// or cancelled it carries a stale token and is dropped.
struct TimerTokens: Sendable {
    private var tokens = InlineArray<13, UInt32>(repeating: 0)

    /// Invalidates the running timer of `kind` and returns the token for a new one.
    mutating func restart(_ kind: TransactionTimer) -> UInt32 {
        let i = Int(kind.rawValue)
        tokens[i] &+= 1
        return tokens[i]
    }

    /// Invalidates every timer in `set`.
    mutating func cancel(_ set: TimerSet) {
        for kind in set { tokens[Int(kind.rawValue)] &+= 1 }
    }

    /// True if `token` is the current one for `kind`.
    func isCurrent(_ kind: TransactionTimer, _ token: UInt32) -> Bool {
        tokens[Int(kind.rawValue)] == token
    }
}
