import Synchronization

/// Core `forward([destination])`, and the branch flags of the branch an `onreply_route` runs for.
extension ProxyCore {
    /// Forwards the request of `context` statelessly (OpenSIPS core `forward()`): to `destination`
    /// when given, else `$du`, the top Route or the Request-URI. No transaction is created, so no
    /// retransmission, no failure route and no reply is generated here; replies go back along the Vias.
    public func forward(_ context: RequestContext, to destination: String?) -> RelayOutcome {
        forwardStatelessly(context, to: destination)
    }

    /// The flags of the branch `reply` came on (`$bf` in an `onreply_route`); nil if it is gone.
    public func branchFlags(_ reply: ReplyContext) -> UInt64? {
        reply.transaction.state.withLock { state in
            state.branches.first { $0.branchID == reply.branchID }?.flags
        }
    }

    /// Replaces the flags of the branch `reply` came on (`setbflag` in an `onreply_route`; a later
    /// failure route sees them). False if the branch is gone.
    public func setBranchFlags(_ reply: ReplyContext, _ flags: UInt64) -> Bool {
        reply.transaction.state.withLock { state in
            guard let i = state.branches.firstIndex(where: { $0.branchID == reply.branchID }) else { return false }
            state.branches[i].flags = flags
            return true
        }
    }
}
