import DNSResolver
import Logging
import Synchronization
import Reactor
import SIPCore

extension ProxyCore {
    /// A response: find the branch by our Via branch and feed it to the branch's client transaction;
    /// responses for no branch of ours are forwarded statelessly along their Via (RFC 3261 §16.11).
    func handleResponse(_ message: SIPMessage, from source: SocketAddress, worker: WorkerContext) {
        counters.responsesReceived.add(1, ordering: .relaxed)
        // Only the top Via's branch is needed here: it is checked as topVia() would, without building the Via.
        // nil: the Via does not parse; .some(nil): it has no branch.
        let topBranch: String??
        do { topBranch = .some(try message.topViaBranch()) } catch { topBranch = nil }
        guard let status = message.statusCode, let topBranch, let cseq = try? message.cseq() else {
            counters.parseErrors.add(1, ordering: .relaxed)
            logger.debug("dropping response without Via or CSeq", metadata: Self.metadata(for: message, peer: source))
            return
        }
        counters.repliesReceivedByCode.increment(status - 100)
        let isCancel = cseq.method == .cancel
        guard let branch = topBranch, let txn = clientTable.lookup(ClientKey(branch: branch, isCancel: isCancel)) else {
            guard let via = try? message.topVia() else { return }
            forwardStrayResponse(message, topVia: via, worker: worker)
            return
        }
        if router.runsReplyRoutes && !isCancel {
            let armed = locked(txn, worker: worker) { state -> (route: Int?, index: Int, absorbed: Bool)? in
                guard let index = state.branches.firstIndex(where: { $0.branchID == branch }) else { return nil }
                // A retransmission of a reply held by async() in onreply_route: the routes ran for it once.
                if absorbHeldRetransmission(message, status: status, branch: index, txn: txn, state: &state,
                                            worker: worker) {
                    return (nil, index, true)
                }
                return (state.replyRoute, index, false)
            }
            if let armed {
                if armed.absorbed {
                    logger.debug("absorbed a retransmission of a reply held by async() in onreply_route",
                                 metadata: Self.metadata(for: txn).merging(
                                     [LogMetadataKey.status: .stringConvertible(status)]) { _, new in new })
                    return
                }
                let context = ReplyContext(message: message, source: source, worker: worker, branchIndex: armed.index,
                                           core: self, transaction: txn, branchID: branch, status: status)
                switch router.routeReply(armed.route, context) {
                case .finished: break
                case .dropped where status < 200:
                    logger.debug("onreply_route dropped a provisional reply",
                                 metadata: Self.metadata(for: txn).merging(
                                     [LogMetadataKey.status: .stringConvertible(status)]) { _, new in new })
                    return
                case .dropped: break
                case .suspended: return
                }
                deliverResponse(context.message, status: status, branch: branch, isCancel: false, txn: txn,
                                worker: worker)
                return
            }
        }
        deliverResponse(message, status: status, branch: branch, isCancel: isCancel, txn: txn, worker: worker)
    }

    /// Feeds a reply to its branch's client transaction and runs what that decides.
    func deliverResponse(_ message: SIPMessage, status: Int, branch: String, isCancel: Bool, txn: ProxyTransaction,
                         worker: WorkerContext) {
        let post = locked(txn, worker: worker) { state -> PostAction in
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
        forward.dropFirstValue(.via)
        guard let next = try? forward.topVia() else { return }
        let bytes = forward.serialize()
        let status = message.statusCode
        guard let destination = MessageBuilders.responseAddress(for: next, source: nil) else {
            // Our stamp gives every Via we relayed a request for an address; a sent-by name without one
            // is located as RFC 3263 §5 says (port given: A/AAAA; else SRV), never with getaddrinfo.
            let lookup = locateNextHop(host: next.maddr ?? next.host, port: next.port, secure: false,
                                       transport: SIPTransport(rawValue: next.transport.lowercased()) ?? .udp,
                                       worker: worker)
            lookup.whenDone { [weak self] location in
                guard case .targets(let targets) = location, let first = targets.first else {
                    self?.counters.hostNamesRefused.add(1, ordering: .relaxed)
                    return
                }
                if let status { self?.counters.countReplySent(status) }
                worker.send(bytes, to: first, socketIndex: socketIndex)
            }
            return
        }
        if let status { counters.countReplySent(status) }
        worker.send(bytes, to: destination, socketIndex: socketIndex)
    }

    /// The listen socket whose advertised address is `host:port`, if any.
    func listenIndex(host: String, port: UInt16?) -> Int? {
        let p = port ?? 5060
        return advertised.firstIndex { $0.port == p && $0.host == host }
    }
}
