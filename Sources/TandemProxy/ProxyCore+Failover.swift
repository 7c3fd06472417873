import DNSResolver
import Logging
import Reactor
import SIPCore
import SIPTransaction
import Synchronization

extension ProxyCore {
    /// Whether a branch that ended with `status` is a DNS failover case (RFC 3263 §4.3, decided as
    /// OpenSIPS 3.6's tm does): a 503 from the next hop; a transport error (ICMP unreachable, connect
    /// refused, a send that failed: the local 503); a timeout (the local 408 of Timer B, or of Timer C)
    /// of a branch that had received no reply at all. Not a failover case: a 408 the next hop sent, and
    /// a timeout after the next hop replied (a provisional, even a 100, then Timer C: the CANCEL and
    /// its 487 or the final 408 are the callee's outcome, which goes upstream and to the failure route).
    /// Neither of those blacklists the next hop.
    static func isFailoverCase(status: Int, generatedLocally: Bool, receivedReply: Bool) -> Bool {
        switch status {
        case 503: true
        case 408: generatedLocally && !receivedReply
        default: false
        }
    }

    /// DNS failover (RFC 3263 §4.3): branch `index` failed (a case of ``isFailoverCase(status:generatedLocally:receivedReply:)``) and its next hop
    /// came from a DNS set with targets left, so a new branch takes the same request to the next one,
    /// within the same transaction (unless `disable_dns_failover`). The failed address goes on the DNS
    /// blacklist (unless `disable_dns_blacklist`). Under the transaction's lock: the request is sent
    /// when the lock is released.
    func failOver(_ index: Int, txn: ProxyTransaction, state: inout ProxyTransaction.State, worker: WorkerContext) {
        let environment = settings.dns
        let failed = state.branches[index]
        if !environment.settings.disableBlacklist, failed.destination != Self.unresolvedDestination {
            environment.blacklist.add(failed.destination)
        }
        guard !environment.settings.disableFailover, let failover = failed.failover, let next = failover.targets.first,
              !state.cancelled, state.finalStatus == 0 else { return }
        state.branches[index].failover = nil
        let branchID = Branch.generate()
        var outgoing = failover.message
        // The next target may need another socket (another address family): the one of the branch's
        // transport for its family, and the double Record-Route that goes with a change of socket.
        let socketIndex = failoverSocket(failover, failedSocket: failed.socketIndex, next: next)
        prepareForForwarding(&outgoing, branch: branchID, socketIndex: socketIndex, incoming: failover.incoming)
        let bytes = outgoing.serialize()
        clientTable.set(ClientKey(branch: branchID, isCancel: false), txn)
        rememberSilentBranch(branchID, destination: next)
        let timers = branchTimers(state: state)
        let reliable = settings.transport(at: socketIndex).isReliable
        let machine: ProxyBranch.Machine = txn.isInvite
            ? .invite(InviteClientTransaction(settings: timers, reliable: reliable, usesTimerC: true))
            : .nonInvite(NonInviteClientTransaction(settings: timers, reliable: reliable))
        var branch = ProxyBranch(branchID: branchID, machine: machine, request: bytes, destination: next,
                                 socketIndex: socketIndex)
        branch.flags = failed.flags
        if failover.targets.count > 1 {
            var rest = failover
            rest.targets = Array(failover.targets.dropFirst())
            branch.failover = rest
        }
        state.branches.append(branch)
        counters.clientTransactionsCreated.add(1, ordering: .relaxed)
        environment.statistics.add(.failovers)
        logger.debug("next hop failed; DNS failover to the next target",
                     metadata: Self.metadata(for: txn, state: state, branch: state.branches.count - 1))
        _ = clientEvent(.start, branch: state.branches.count - 1, response: nil, txn: txn, state: &state, worker: worker)
        worker.send(bytes, to: next, socketIndex: socketIndex)  // held until the lock is released
    }

    /// The socket a failover branch leaves from: the failed branch's when it suits the next target's
    /// family (or was forced), else the socket of the branch's transport for that family.
    func failoverSocket(_ failover: ProxyBranch.Failover, failedSocket: Int, next: SocketAddress) -> Int {
        if failover.forced != nil || settings.socketAddress(at: failedSocket)?.family == next.family {
            return failedSocket
        }
        let transport = failover.transport ?? settings.transport(at: failedSocket)
        return settings.outgoingSocket(for: transport, family: next.family, incoming: failover.incoming ?? failedSocket)
    }
}
