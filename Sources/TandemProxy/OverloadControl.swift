import Logging
import Reactor
import SIPCore
import Synchronization

/// Bounds on the work the proxy takes on (issue 14 item 4): past `ProxySettings.maxTransactions` server
/// transactions waiting for a final reply, or `ProxySettings.maxSuspended` transactions waiting on an
/// async operation, a new INVITE (no To tag) gets a stateless 503 with Retry-After instead of a
/// transaction. Requests of existing calls (ACK, CANCEL, BYE, re-INVITE) and other methods go on, so
/// calls already up can end. The check is two relaxed atomic loads per new INVITE.
extension ProxyCore {
    /// True if a new INVITE must be refused now.
    @inline(__always)
    var isOverloaded: Bool {
        (settings.maxTransactions > 0 && counters.awaitingFinalNow.load(ordering: .relaxed) >= settings.maxTransactions)
            || (settings.maxSuspended > 0 && counters.suspendedNow.load(ordering: .relaxed) >= settings.maxSuspended)
    }

    /// Refuses `message` with 503 + Retry-After if it is a new INVITE and the proxy is past a bound.
    /// Returns true if it replied.
    func rejectWhenOverloaded(_ message: SIPMessage, method: SIPMethod, source: SocketAddress, socketIndex: Int,
                              worker: WorkerContext) -> Bool {
        guard method == .invite, isOverloaded, (try? message.to())?.tag == nil else { return false }
        counters.overloadRejected.add(1, ordering: .relaxed)
        sendStatelessReply(to: message, source: source, socketIndex: socketIndex, status: 503,
                           reason: "Service Unavailable (overloaded)", worker: worker,
                           extraHeaders: [(.retryAfter, String(settings.overloadRetryAfter))])
        if overloadLog.shouldLog() {
            logger.warning("overloaded: refusing new INVITEs with 503", metadata: [
                "awaiting_final": "\(counters.awaitingFinalNow.load(ordering: .relaxed))",
                "suspended": "\(counters.suspendedNow.load(ordering: .relaxed))",
                "max_transactions": "\(settings.maxTransactions)", "max_suspended": "\(settings.maxSuspended)",
                "refused_total": "\(counters.overloadRejected.load(ordering: .relaxed))",
            ])
        }
        return true
    }
}

/// Lets one log line through per interval, whichever thread asks (one relaxed load when it says no).
public final class LogRateLimiter: Sendable {
    private let intervalNanoseconds: UInt64
    private let next = Atomic<UInt64>(0)

    /// At most one line per `seconds`.
    public init(seconds: Double) {
        intervalNanoseconds = UInt64(max(0, seconds) * 1_000_000_000)
    }

    /// True for the first caller once the interval has passed since the last `true`.
    public func shouldLog(now: UInt64 = System.monotonicNanoseconds()) -> Bool {
        let due = next.load(ordering: .relaxed)
        guard now >= due else { return false }
        return next.compareExchange(expected: due, desired: now + intervalNanoseconds, ordering: .relaxed).exchanged
    }
}
