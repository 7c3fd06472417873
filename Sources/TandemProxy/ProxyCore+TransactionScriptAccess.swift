import Reactor
import Synchronization
import SIPCore

/// The other message of a transaction, for the `<request>` / `<reply>` context of a script variable
/// (`$(<request>ru)` in an onreply_route, `$(<reply>hdr(X))` in a failure_route).
extension ReplyContext {
    /// The request of the reply's transaction, as the script left it at its first `t_relay` (else as
    /// received), with where it came from and the listen socket it came in on; nil once the
    /// transaction dropped it.
    public var transactionRequest: (message: SIPMessage, source: SocketAddress, socketIndex: Int)? {
        transaction.state.withLock { state in
            (state.relayedRequest ?? state.request).map { ($0, state.source, state.socketIndex) }
        }
    }
}

extension RequestContext {
    /// In a failure route, the final reply that decided it (the failed branch's, else the best one)
    /// and the next hop it came from; nil elsewhere, and for a failure Tandem generated itself (a
    /// timeout has no reply).
    public var failureReply: (message: SIPMessage, source: SocketAddress)? {
        guard inFailureRoute, let txn = transaction else { return nil }
        let status = failureStatus
        let found: ([UInt8], SocketAddress)? = txn.state.withLock { state in
            let done = state.branches.filter { $0.isDone && $0.finalResponse != nil }
            guard let branch = done.first(where: { $0.status == status })
                    ?? done.first(where: { $0.status == core.bestBranch(state)?.status }),
                  let bytes = branch.finalResponse else { return nil }
            return (bytes, branch.destination)
        }
        guard let (bytes, source) = found, let message = try? SIPMessage(parsing: bytes) else { return nil }
        return (message, source)
    }
}

extension ReplyContext {
    /// Arms (or, nil, disarms) the failure route of the reply's transaction: `t_on_failure` in an
    /// onreply_route.
    public func armFailureRoute(_ route: Int?) {
        transaction.state.withLock { $0.failureRoute = route }
    }
}

extension ProxyCore {
    /// `t_on_failure("0")` in a request or failure route: no failure route for the request, also in its
    /// transaction when it already has one.
    public func armFailureRoute(_ context: RequestContext, _ route: Int?) {
        context.failureRoute = route
        context.transaction?.state.withLock { $0.failureRoute = route }
    }

    /// `t_on_branch("0")`: no branch route for the branches created afterwards.
    public func armBranchRoute(_ context: RequestContext, _ route: Int?) {
        context.branchRoute = route
        context.transaction?.state.withLock { $0.branchRoute = route }
    }
}
