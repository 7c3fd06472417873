import Logging
import Synchronization
import Reactor
import SIPCore

extension ProxyCore {
    /// A response: find the branch by our Via branch and feed it to the branch's client transaction;
    /// responses for no branch of ours are forwarded statelessly along their Via (RFC 3261 §16.11).
    func handleResponse(_ message: SIPMessage, from source: SocketAddress, worker: WorkerContext) {
        counters.responsesReceived.add(1, ordering: .relaxed)
        guard let status = message.statusCode, let via = try? message.topVia(), let cseq = try? message.cseq() else {
            counters.parseErrors.add(1, ordering: .relaxed)
            return
        }
        let isCancel = cseq.method == .cancel
        guard let branch = via.branch, let txn = clientTable.lookup(ClientKey(branch: branch, isCancel: isCancel)) else {
            forwardStrayResponse(message, topVia: via, worker: worker)
            return
        }
        var message = message
        if router.runsReplyRoutes && !isCancel {
            let armed = txn.state.withLock { state -> (route: Int?, index: Int)? in
                guard let index = state.branches.firstIndex(where: { $0.branchID == branch }) else { return nil }
                return (state.replyRoute, index)
            }
            if let armed {
                let context = ReplyContext(message: message, source: source, worker: worker, branchIndex: armed.index)
                if !router.routeReply(armed.route, context) && status < 200 { return }
                message = context.message
            }
        }
        let post = txn.state.withLock { state -> PostAction in
            guard let index = state.branches.firstIndex(where: { $0.branchID == branch }) else { return .none }
            if isCancel {
                cancelEvent(.response(status: status), branch: index, txn: txn, state: &state, worker: worker)
                return .none
            }
            return clientEvent(.response(status: status), branch: index, response: message, txn: txn,
                               state: &state, worker: worker)
        }
        runPostAction(post, txn: txn, worker: worker)
    }

    /// A response that matches no branch (typically a 2xx retransmission after the transaction
    /// ended): if the top Via is ours, pop it and send the response to the next Via.
    func forwardStrayResponse(_ message: SIPMessage, topVia: Via, worker: WorkerContext) {
        counters.strayResponses.add(1, ordering: .relaxed)
        guard let socketIndex = listenIndex(host: topVia.host, port: topVia.port) else { return }
        var forward = message
        forward.removeFirstValue(.via)
        guard let next = try? forward.topVia(), let destination = MessageBuilders.responseAddress(for: next) else {
            return
        }
        worker.send(forward.serialize(), to: destination, socketIndex: socketIndex)
    }

    /// The listen socket whose advertised address is `host:port`, if any.
    func listenIndex(host: String, port: UInt16?) -> Int? {
        let p = port ?? 5060
        return advertised.firstIndex { $0.port == p && $0.host == host }
    }
}
