import Reactor
import SIPCore
import Synchronization

/// Draining for a graceful shutdown: new requests are turned away with 503 and Retry-After, while
/// everything that belongs to existing transactions and dialogs is still handled.
extension ProxyCore {
    /// True once `beginDrain` was called.
    public var isDraining: Bool { drainRetryAfter.load(ordering: .relaxed) > 0 }

    /// Starts draining: from now on every new initial request (no To tag; not ACK or CANCEL) that
    /// matches no transaction is answered statelessly with `503 Service Unavailable` and
    /// `Retry-After: retryAfterSeconds`, and counted in `counters.drainRejected`. Retransmissions,
    /// ACK/CANCEL for existing transactions, in-dialog requests and all responses go on as before;
    /// suspended transactions resume and relay as usual. Cannot be undone.
    public func beginDrain(retryAfterSeconds: Int = 5) {
        drainRetryAfter.store(max(1, retryAfterSeconds), ordering: .relaxed)
    }

    /// What the proxy still owes answers for (both counters are read lock-free).
    public var drainProgress: DrainProgress {
        DrainProgress(suspended: counters.suspendedNow.load(ordering: .relaxed),
                      awaitingFinal: counters.awaitingFinalNow.load(ordering: .relaxed))
    }

    /// While draining: answers a new initial request with 503 + Retry-After and returns true; returns
    /// false for what must still be routed (ACK, CANCEL, in-dialog requests).
    func rejectWhileDraining(_ message: SIPMessage, method: SIPMethod, source: SocketAddress, socketIndex: Int,
                             worker: WorkerContext) -> Bool {
        guard method != .ack, method != .cancel, (try? message.to())?.tag == nil else { return false }
        counters.drainRejected.add(1, ordering: .relaxed)
        let retryAfter = drainRetryAfter.load(ordering: .relaxed)
        sendStatelessReply(to: message, source: source, socketIndex: socketIndex, status: 503,
                           reason: "Service Unavailable", worker: worker,
                           extraHeaders: [(.retryAfter, String(retryAfter))])
        return true
    }
}
