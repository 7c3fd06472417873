import Logging
import Synchronization
import Reactor
import SIPCore
import SIPTransaction

extension ProxyCore {
    /// A request: validate, stamp the top Via, absorb retransmissions, ACKs and CANCELs that belong to a
    /// transaction, and hand everything else to the router.
    ///
    /// The message is consumed: the request context then holds the only copy, so that the script's first
    /// header edit does not copy the header index.
    func handleRequest(_ message: consuming SIPMessage, from source: SocketAddress, socketIndex: Int,
                       worker: WorkerContext) {
        counters.requestsReceived.add(1, ordering: .relaxed)
        counters.countRequest(message.method)
        if socketIndex >= settings.listen.count && settings.stream.acceptAliases {
            noteConnectionAlias(message, source: source, transport: settings.transport(at: socketIndex))
        }
        // Stamped before validation, so that even a 400 for this request goes where it came from.
        // The top Via parsed there is kept when the stamp left the line as it was (the usual case), so
        // that validation and the transaction key do not parse it again.
        let unstampedVia = Self.stampTopVia(&message, source: source)
        do {
            try message.validateForProxy(topViaChecked: unstampedVia != nil)
        } catch {
            counters.parseErrors.add(1, ordering: .relaxed)
            if router.runsErrorRoute {
                // error_route: the script decides what (if anything) to answer.
                logger.debug("malformed request to error_route", metadata: Self.badInputMetadata(message, error, source))
                router.routeError(RequestContext(message: message, source: source, socketIndex: socketIndex,
                                                 worker: worker, core: self))
            } else if error.shouldReply400, message.method != .ack {
                logger.info("rejecting malformed request", metadata: Self.badInputMetadata(message, error, source))
                replyToMalformed(message, error: error, source: source, socketIndex: socketIndex, worker: worker)
            } else {
                logger.debug("dropping malformed request", metadata: Self.badInputMetadata(message, error, source))
            }
            return
        }
        guard let method = message.method, let via = unstampedVia ?? (try? message.topVia()) else {
            counters.parseErrors.add(1, ordering: .relaxed)
            logger.debug("dropping request without method or Via", metadata: Self.metadata(for: message, peer: source))
            return
        }

        let key = serverKey(for: message, via: via, method: method)
        if let key {
            switch method {
            case .ack:
                let inviteKey = key.with(method: .invite)
                if let txn = serverTable.lookup(inviteKey), absorbAck(txn, worker: worker) { return }
            case .cancel:
                let inviteKey = key.with(method: .invite)
                if let txn = serverTable.lookup(inviteKey) {
                    handleCancel(message, for: txn, source: source, socketIndex: socketIndex, worker: worker)
                    return
                }
            default:
                if let txn = serverTable.lookup(key) {
                    absorbRetransmission(txn, worker: worker)
                    return
                }
            }
        }
        if method != .ack, method != .cancel,
           rejectUnsupported(message, source: source, socketIndex: socketIndex, worker: worker) {
            return
        }
        if method == .invite,
           rejectWhenOverloaded(message, method: method, source: source, socketIndex: socketIndex, worker: worker) {
            return
        }
        if drainRetryAfter.load(ordering: .relaxed) > 0,
           rejectWhileDraining(message, method: method, source: source, socketIndex: socketIndex, worker: worker) {
            return
        }
        let arrivalVia = message.firstValueBytes(.via)
        let context = RequestContext(message: consume message, source: source, socketIndex: socketIndex,
                                     worker: worker, core: self)
        if let arrivalVia {
            context.arrivalTopVia = (arrivalVia, via, via.branch.map(Branch.isRFC3261) == true ? key : nil)
        }
        if router.routeRequest(context) != .suspended { finishRoute(context) }
    }

    /// RFC 5923 (`tcp_accept_aliases`): a top Via with `alias` makes the connection the request came on
    /// reachable at the source IP and the Via's sent-by port too, so requests toward that address reuse it.
    func noteConnectionAlias(_ message: SIPMessage, source: SocketAddress, transport: SIPTransport = .tcp) {
        guard let via = try? message.topVia(), via.parameters.first(named: "alias") != nil else { return }
        let alias = source.withPort(via.port ?? 5060)
        guard alias != source else { return }
        streams.addAlias(alias, forPeer: source, transport: transport)
    }

    /// `force_tcp_alias([port])`: the stream connection the request came on becomes reachable at the
    /// source IP and `port` (default: the top Via's port, 5060 when it has none), so requests toward that
    /// address reuse it while it stays open (RFC 5923 for this peer only, whatever `tcp_accept_aliases`
    /// says). -1 for a request that did not come over a stream, or a port out of range.
    public func forceTCPAlias(_ context: RequestContext, port: Int?) -> Int32 {
        let transport = settings.transport(at: context.socketIndex)
        guard transport.isReliable,
              streams.connection(to: context.source, transport: transport) != nil else { return -1 }
        let aliasPort: Int
        if let port { aliasPort = port } else { aliasPort = Int((try? context.message.topVia())?.port ?? 5060) }
        guard (1...65_535).contains(aliasPort) else { return -1 }
        let alias = context.source.withPort(UInt16(aliasPort))
        if alias != context.source { streams.addAlias(alias, forPeer: context.source, transport: transport) }
        return 1
    }

    /// RFC 3261 §18.2.1 and RFC 3581: remember in the top Via where the request really came from
    /// (`received` when the sent-by host is not the source address, `rport` filled in when asked for).
    /// A Via that does not parse is left alone (replies then go to `source`). Returns the parsed top Via
    /// when the message was left unchanged (nil when the Via was stamped or does not parse).
    @discardableResult
    static func stampTopVia(_ message: inout SIPMessage, source: SocketAddress) -> Via? {
        guard var via = try? message.topVia() else { return nil }
        let sourceIP = source.ip
        var stamped = false
        if via.host != sourceIP && via.host != "[\(sourceIP)]" {
            via.received = sourceIP
            stamped = true
        }
        if case .requested = via.rport {
            via.rport = .value(source.port)
            if via.received == nil { via.received = sourceIP }
            stamped = true
        }
        guard stamped else { return via }
        message.setTopVia(via)
        return nil
    }

    /// RFC 3261 §16.3 steps 2 and 4 for a new request: a Request-URI scheme the proxy cannot route
    /// (not sip, sips or tel) gets 416; a `Proxy-Require` naming any extension gets 420 with those option
    /// tags in `Unsupported` (Tandem implements no proxy extension). Returns true if it replied.
    func rejectUnsupported(_ message: SIPMessage, source: SocketAddress, socketIndex: Int,
                           worker: WorkerContext) -> Bool {
        if !message.hasSIPOrTelRequestURI {
            counters.unsupportedSchemes.add(1, ordering: .relaxed)
            sendStatelessReply(to: message, source: source, socketIndex: socketIndex, status: 416, reason: nil,
                               worker: worker)
            return true
        }
        guard message.hasHeader(.proxyRequire) else { return false }
        let tags = message.headerValues(.proxyRequire)
        guard !tags.isEmpty else { return false }
        counters.unsupportedExtensions.add(1, ordering: .relaxed)
        sendStatelessReply(to: message, source: source, socketIndex: socketIndex, status: 420, reason: nil,
                           worker: worker, extraHeaders: [(.unsupported, tags.joined(separator: ", "))])
        return true
    }

    /// RFC 3261 §8.2.2.1 / §21.5.20: an unsupported SIP version gets 505, other malformed requests a 400
    /// that names the problem.
    func replyToMalformed(_ request: SIPMessage, error: SIPParseError, source: SocketAddress, socketIndex: Int,
                          worker: WorkerContext) {
        let unsupportedVersion = error.reason == .badVersion
        sendStatelessReply(to: request, source: source, socketIndex: socketIndex,
                           status: unsupportedVersion ? 505 : 400,
                           reason: unsupportedVersion ? "Version Not Supported" : "Bad Request (\(error.reason))",
                           worker: worker)
    }

    /// The server transaction key: RFC 3261 branch matching, or for RFC 2543 clients a key made of
    /// Call-ID, From tag and CSeq number (so the ACK for a non-2xx still finds its INVITE).
    func serverKey(for message: SIPMessage, via: Via, method: SIPMethod) -> TransactionKey? {
        let host = Self.lowercased(via.host)
        let sentBy = via.port.map { "\(host):\($0)" } ?? host
        if let branch = via.branch, Branch.isRFC3261(branch) {
            return TransactionKey(branch: branch, sentBy: sentBy, method: method)
        }
        guard let callID = message.callID, let cseq = try? message.cseq() else { return nil }
        let fromTag = (try? message.from())?.tag ?? ""
        return TransactionKey(branch: "2543|\(callID)|\(fromTag)|\(cseq.number)", sentBy: sentBy, method: method)
    }

    /// `text.lowercased()`, without making a new string when `text` is ASCII without capitals (a sent-by
    /// host, nearly always).
    static func lowercased(_ text: String) -> String {
        for byte in text.utf8 where byte >= 0x80 || (byte >= 65 && byte <= 90) { return text.lowercased() }
        return text
    }

    /// A request retransmission: the server transaction resends its last reply.
    func absorbRetransmission(_ txn: ProxyTransaction, worker: WorkerContext) {
        counters.retransmissionsAbsorbed.add(1, ordering: .relaxed)
        locked(txn, worker: worker) { state in
            serverEvent(.retransmission, response: nil, txn: txn, state: &state, worker: worker)
        }
    }

    /// An ACK whose branch matches an INVITE server transaction. Returns true if the transaction
    /// absorbed it (ACK for a non-2xx reply); false if it must be routed end to end.
    func absorbAck(_ txn: ProxyTransaction, worker: WorkerContext) -> Bool {
        locked(txn, worker: worker) { state in
            if state.finalStatus >= 200 && state.finalStatus < 300 { return false }
            var passUp = false
            serverEvent(.ack, response: nil, txn: txn, state: &state, worker: worker, passAck: &passUp)
            if !passUp { counters.retransmissionsAbsorbed.add(1, ordering: .relaxed) }
            return !passUp
        }
    }

    /// A CANCEL for a known INVITE: 200 to the CANCEL, CANCEL to every pending branch, and 487 to the
    /// INVITE at once when no branch is out yet.
    func handleCancel(_ cancel: SIPMessage, for txn: ProxyTransaction, source: SocketAddress, socketIndex: Int,
                      worker: WorkerContext) {
        sendStatelessReply(to: cancel, source: source, socketIndex: socketIndex, status: 200, reason: nil,
                           worker: worker)
        locked(txn, worker: worker) { state in
            guard state.finalStatus == 0, !state.cancelled else { return }
            state.cancelled = true
            // The async jobs of the suspended request and of held replies are cancelled at their
            // drivers once the lock is released (their resume routes see $rc = -1).
            runAfterUnlock(takeCancelHooks(&state), worker: worker)
            // Nothing out yet, or every branch failed and the script waits in an async() of its
            // failure route: the 487 goes at once.
            if state.branches.isEmpty || (state.suspended != nil && state.allBranchesDone) {
                let bytes = localResponse(to: state, status: 487, reason: nil)
                sendUpstream(bytes, status: 487, txn: txn, state: &state, worker: worker)
                return
            }
            for index in state.branches.indices {
                cancelBranch(index, txn: txn, state: &state, worker: worker)
            }
        }
    }

    /// After the main route ran: a transaction that the script created but neither relayed, replied
    /// nor handed to an async operation would wait forever, so it gets a 500.
    func finishRoute(_ context: RequestContext) {
        guard let txn = context.transaction, !context.relayed, !context.replied, !context.suspended else { return }
        locked(txn, worker: context.worker) { state in
            guard state.finalStatus == 0, state.branches.isEmpty, !state.cancelled else { return }
            logger.warning("route ended without relaying or replying; sending 500",
                           metadata: Self.metadata(for: txn, state: state))
            let bytes = localResponse(to: state, status: 500, reason: "Server Internal Error (no reply from script)")
            sendUpstream(bytes, status: 500, txn: txn, state: &state, worker: context.worker)
        }
    }

    /// Sends a reply to `request` without a transaction (sl_send_reply, 400 for malformed requests,
    /// 200 for CANCEL).
    func sendStatelessReply(to request: SIPMessage, source: SocketAddress, socketIndex: Int, status: Int,
                            reason: String?, worker: WorkerContext, extraHeaders: [(HeaderName, String)] = []) {
        // A top Via that does not parse (a 400 for it): the reply goes to the source address; over a
        // stream, back on the connection the request came on (``replyAddress(source:upstream:socketIndex:)``).
        let upstream = (try? request.topVia()).flatMap { MessageBuilders.responseAddress(for: $0, source: source) }
            ?? source
        let destination = replyAddress(source: source, upstream: upstream, socketIndex: socketIndex)
        var extra = extraHeaders
        if let server = settings.serverHeader { extra.append((.other("Server"), server)) }
        let bytes = SIPMessage.makeResponse(to: request, status: status, reason: reason,
                                            toTag: status > 100 ? statelessTag(for: request) : nil,
                                            extraHeaders: extra)
        counters.localReplies.add(1, ordering: .relaxed)
        counters.countReplySent(status)
        worker.send(bytes, to: destination, socketIndex: socketIndex)
    }

    /// Where a reply goes: over UDP the address of the top Via (`upstream`); over a stream the
    /// connection the request came on (its peer is `source`), or, when that connection closed meanwhile,
    /// a new one to the Via's `received` address and sent-by port (RFC 3261 §18.2.2). The UDP path pays
    /// one comparison.
    @inline(__always)
    func replyAddress(source: SocketAddress, upstream: SocketAddress, socketIndex: Int) -> SocketAddress {
        guard socketIndex >= settings.listen.count else { return upstream }
        return streams.connection(to: source, transport: settings.transport(at: socketIndex)) != nil ? source : upstream
    }

    func replyAddress(_ state: ProxyTransaction.State) -> SocketAddress {
        replyAddress(source: state.source, upstream: state.upstream, socketIndex: state.socketIndex)
    }

    /// The extra headers of a 100 Trying rebuilt for a retransmission (as ``localResponse(to:status:reason:extraHeaders:)``).
    var tryingExtraHeaders: [(HeaderName, String)] {
        settings.serverHeader.map { [(.other("Server"), $0)] } ?? []
    }

    /// A reply generated by Tandem inside a transaction (100, 408, 483, 487, 500, t_reply).
    func localResponse(to state: ProxyTransaction.State, status: Int, reason: String?,
                       extraHeaders: [(HeaderName, String)] = []) -> [UInt8] {
        // After the final reply the request is gone; nothing generated then is ever sent.
        guard let request = state.request else { return [] }
        var extra = extraHeaders
        if let server = settings.serverHeader { extra.append((.other("Server"), server)) }
        counters.localReplies.add(1, ordering: .relaxed)
        return SIPMessage.makeResponse(to: request, status: status, reason: reason,
                                       toTag: status > 100 ? state.localTag : nil, extraHeaders: extra)
    }
}
