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

/// ``TimerTokens`` for a server transaction machine, which runs only Timers G through L (G, H, I, J
/// and L; K is a client timer): 6 tokens instead of 13, 28 bytes less in every transaction (issue 19:
/// memory per suspended transaction).
struct ServerTimerTokens: Sendable {
    private var tokens = InlineArray<6, UInt32>(repeating: 0)

    private static func index(_ kind: TransactionTimer) -> Int? {
        let i = Int(kind.rawValue) - Int(TransactionTimer.g.rawValue)
        return i >= 0 && i < 6 ? i : nil
    }

    /// Invalidates the running timer of `kind` and returns the token for a new one.
    mutating func restart(_ kind: TransactionTimer) -> UInt32 {
        guard let i = Self.index(kind) else { preconditionFailure("\(kind) is not a server transaction timer") }
        tokens[i] &+= 1
        return tokens[i]
    }

    /// Invalidates every timer in `set` (a kind a server machine never runs has no timer to invalidate).
    mutating func cancel(_ set: TimerSet) {
        for kind in set {
            if let i = Self.index(kind) { tokens[i] &+= 1 }
        }
    }

    /// True if `token` is the current one for `kind`.
    func isCurrent(_ kind: TransactionTimer, _ token: UInt32) -> Bool {
        guard let i = Self.index(kind) else { return false }
        return tokens[i] == token
    }
}
