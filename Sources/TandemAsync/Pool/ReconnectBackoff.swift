import Reactor

/// The reconnect delay of a pool: none until a connect fails, then `initial`, doubling per further
/// failure up to `max`; a successful connect resets it. Times come from the caller.
struct ReconnectBackoff: Sendable, Equatable {
    /// The current delay (0 when no connect has failed since the last success).
    private(set) var delayMs: UInt64 = 0
    /// No connect starts before this.
    private(set) var retryAt: Deadline?

    mutating func failed(now: Deadline, policy: ConnectionPoolPolicy) {
        delayMs = delayMs == 0 ? policy.initialBackoffMs : min(delayMs * 2, policy.maxBackoffMs)
        retryAt = now.advanced(byMilliseconds: delayMs)
    }

    mutating func reset() {
        delayMs = 0
        retryAt = nil
    }

    func isRunning(now: Deadline) -> Bool {
        guard let retryAt else { return false }
        return now < retryAt
    }

    func remainingMilliseconds(now: Deadline) -> UInt64 {
        guard let retryAt else { return 0 }
        return now.nanoseconds(until: retryAt) / 1_000_000
    }
}
