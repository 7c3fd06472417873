import Reactor

/// The reconnect delay of a pool. The first round of failed connects is retried at once when the policy
/// says so (``ConnectionPoolPolicy/retriesFirstFailureAtOnce``: a restarted server is usually back within
/// a moment); each later round sets a delay: `initial`, then doubling up to `max`. A round is the connects under way when a failure sets the delay: attempts started before
/// that moment fail for the same reason and do not lengthen it again, so a pool of N connections that
/// all fail together waits `initial`, not `initial × 2^(N-1)`. A successful connect resets everything.
/// Times come from the caller.
struct ReconnectBackoff: Sendable, Equatable {
    /// The current delay (0 when the next connect may go at once).
    private(set) var delayMs: UInt64 = 0
    /// No connect starts before this.
    private(set) var retryAt: Deadline?
    /// Failed rounds since the last success.
    private(set) var failedRounds = 0
    /// When the last round was counted: failures of attempts started before it belong to that round.
    private var roundCountedAt: Deadline?

    /// A connect that started at `startedAt` failed at `now`.
    mutating func failed(startedAt: Deadline, now: Deadline, policy: ConnectionPoolPolicy) {
        if let roundCountedAt, startedAt < roundCountedAt { return }
        failedRounds += 1
        roundCountedAt = now
        if failedRounds == 1 && policy.retriesFirstFailureAtOnce {
            delayMs = 0
            retryAt = nil
        } else {
            delayMs = delayMs == 0 ? policy.initialBackoffMs : min(delayMs * 2, policy.maxBackoffMs)
            retryAt = now.advanced(byMilliseconds: delayMs)
        }
    }

    mutating func reset() {
        delayMs = 0
        retryAt = nil
        failedRounds = 0
        roundCountedAt = nil
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
