/// How far a graceful shutdown's drain has come: the work the proxy still owes answers for.
///
/// Transactions that already sent their final reply and only linger to absorb retransmissions
/// (Completed, Accepted, Confirmed) are not counted: dropping them loses nothing.
public struct DrainProgress: Sendable, Equatable, CustomStringConvertible {
    /// Transactions suspended on an async operation (`async()`), waiting for their resume route.
    public var suspended: Int
    /// Server transactions still waiting for a final reply (relayed and not yet answered, or
    /// suspended).
    public var awaitingFinal: Int

    public init(suspended: Int, awaitingFinal: Int) {
        self.suspended = suspended
        self.awaitingFinal = awaitingFinal
    }

    /// True when nothing is left to wait for.
    public var isIdle: Bool { suspended <= 0 && awaitingFinal <= 0 }

    /// Transactions that would be lost by stopping now (a suspended one also awaits its final reply).
    public var outstanding: Int { max(suspended, awaitingFinal, 0) }

    public var description: String { "\(suspended) suspended, \(awaitingFinal) awaiting a final reply" }
}
