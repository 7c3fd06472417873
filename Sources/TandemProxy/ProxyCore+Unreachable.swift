import Logging
import Reactor
import SIPCore
import Synchronization

/// ICMP errors (port or host unreachable) for a next hop: branches that have heard nothing from it
/// fail at once with 503 (RFC 3261 §16.9, §18.4) instead of waiting out Timer B/F.
extension ProxyCore {
    func rememberSilentBranch(_ branchID: String, destination: SocketAddress) {
        silentBranches.remember(branchID, destination: destination)
    }

    func forgetSilentBranch(_ branchID: String, destination: SocketAddress) {
        silentBranches.forget(branchID, destination: destination)
    }

    /// The kernel reported that datagrams to `destination` cannot be delivered.
    public func handleUnreachable(_ destination: SocketAddress, worker: WorkerContext) {
        let branches = silentBranches.take(destination)
        if !branches.isEmpty {
            logger.debug("ICMP unreachable for next hop",
                         metadata: [LogMetadataKey.destination: "\(destination)", "branches": "\(branches.count)"])
        }
        for branchID in branches {
            guard let txn = clientTable.lookup(ClientKey(branch: branchID, isCancel: false)) else { continue }
            let post = locked(txn, worker: worker) { state -> PostAction in
                guard let index = state.branches.firstIndex(where: { $0.branchID == branchID }),
                      state.branches[index].status == 0, !state.branches[index].isDone else { return .none }
                return clientEvent(.transportError, branch: index, response: nil, txn: txn, state: &state,
                                   worker: worker)
            }
            runPostAction(post, txn: txn, worker: worker)
        }
    }
}
