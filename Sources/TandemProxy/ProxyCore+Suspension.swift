import Reactor
import SIPCore
import Synchronization

/// What a suspended request keeps in its transaction while an async operation runs: the message
/// with every change the script made, `$du`, flags and armed routes, and the hook that cancels the
/// operation when a CANCEL arrives. (The AVPs are the transaction's `scriptState`, which every route
/// of the transaction shares, suspended or not.)
struct SuspendedRequest: Sendable {
    var message: SIPMessage
    var destinationURI: String?
    var flags: UInt64
    var failureRoute: Int?
    var replyRoute: Int?
    var branchRoute: Int?
    /// Suspended inside a failure route: the final reply waits for the resume route.
    var inFailureRoute: Bool
    var failureStatus: Int
    /// Called (once) when a CANCEL arrives while suspended: cancels the operation at its driver.
    var onCancel: (@Sendable () -> Void)?
}

/// Suspending a request's transaction while the script waits for an async operation, and resuming it.
extension ProxyCore {
    /// Suspends the request of `context` (`async()`): creates its transaction if needed (so
    /// retransmissions get 100 Trying or the last reply and never run the script again) and keeps the
    /// message as the script left it. Returns false if the request must not be resumed (another copy
    /// already owns the transaction, or it cannot have one).
    public func suspend(_ context: RequestContext) -> Bool {
        if context.transaction == nil {
            guard newTransaction(context) > 0 else { return false }
        }
        guard let txn = context.transaction else { return false }
        let saved = SuspendedRequest(message: context.message, destinationURI: context.destinationURI,
                                     flags: context.flags, failureRoute: context.failureRoute,
                                     replyRoute: context.replyRoute, branchRoute: context.branchRoute,
                                     inFailureRoute: context.inFailureRoute, failureStatus: context.failureStatus)
        txn.state.withLock { state in
            state.suspended = saved
            state.flags = context.flags
        }
        counters.suspendedNow.add(1, ordering: .relaxed)
        context.suspended = true
        return true
    }

    /// The context to run the resume route in: the suspended message with its changes, `$du` and flags.
    /// Nil if `transaction` is not suspended.
    public func resume(_ transaction: ProxyTransaction, worker: WorkerContext) -> RequestContext? {
        let taken = transaction.state.withLock { state -> (SuspendedRequest, SocketAddress, Int)? in
            guard let saved = state.suspended else { return nil }
            state.suspended = nil
            return (saved, state.source, state.socketIndex)
        }
        guard let (saved, source, socketIndex) = taken else { return nil }
        counters.suspendedNow.add(-1, ordering: .relaxed)
        let context = RequestContext(message: saved.message, source: source, socketIndex: socketIndex,
                                     worker: worker, core: self, transaction: transaction,
                                     inFailureRoute: saved.inFailureRoute, failureStatus: saved.failureStatus)
        context.destinationURI = saved.destinationURI
        context.flags = saved.flags
        context.failureRoute = saved.failureRoute
        context.replyRoute = saved.replyRoute
        context.branchRoute = saved.branchRoute
        return context
    }

    /// True once a CANCEL arrived for the transaction (a resume route's t_relay will fail).
    public func isCancelled(_ transaction: ProxyTransaction) -> Bool {
        transaction.state.withLock { $0.cancelled }
    }

    /// Called by the router when a route run ends: a transaction the script created but left without
    /// a branch, a reply or a pending async operation gets a 500 rather than waiting forever.
    public func routeFinished(_ context: RequestContext) {
        guard context.inFailureRoute, !context.suspended, let txn = context.transaction else {
            finishRoute(context)
            return
        }
        // A failure route resumed after async(): now the best reply may go, unless it added a branch.
        let post = locked(txn, worker: context.worker) { state -> PostAction in
            state.failureRouteRunning = false
            if let armed = context.failureRoute, context.relayed { state.failureRoute = armed }
            return completeIfDone(txn: txn, state: &state, worker: context.worker)
        }
        runPostAction(post, txn: txn, worker: context.worker)
    }
}

extension ProxyTransaction {
    /// Registers what to do when a CANCEL arrives while the transaction waits (cancel the operation
    /// at its driver), in its suspension. Runs at once if the CANCEL already came; ignored when the
    /// transaction is not suspended.
    public func setCancelHandler(_ handler: (@Sendable () -> Void)?) {
        let runNow = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.suspended?.onCancel = handler
            return false
        }
        if runNow { handler?() }
    }
}
