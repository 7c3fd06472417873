import Logging
import Synchronization
import Reactor
import SIPCore
import SIPTransaction

/// The proxy operations a routing script calls (`t_newtran`, `t_relay`, `sl_send_reply`, `t_reply`,
/// `record_route`, `loose_route`, `t_check_trans`). Return codes follow OpenSIPS: >0 success,
/// <0 failure, 0 stop the script (e.g. a retransmission was absorbed).
extension ProxyCore {
    /// `t_newtran()`: creates the server transaction for the request (100 Trying for INVITE).
    /// Returns 1 when created or already owned by this context, 0 when another copy of the request
    /// already has one (the retransmission is absorbed), -1 when no transaction can be made.
    public func newTransaction(_ context: RequestContext) -> Int32 {
        if context.transaction != nil { return 1 }
        let message = context.message
        guard let method = message.method, method != .ack, let via = try? message.topVia(),
              let key = serverKey(for: message, via: via, method: method) else { return -1 }
        let upstream = MessageBuilders.responseAddress(for: via, source: context.source) ?? context.source
        let server: ProxyTransaction.ServerMachine = method == .invite
            ? .invite(InviteServerTransaction(settings: settings.timers, reliable: false, tryingPolicy: .immediately))
            : .nonInvite(NonInviteServerTransaction(settings: settings.timers, reliable: false))
        let state = ProxyTransaction.State(
            server: server, request: message, source: context.source, upstream: upstream,
            socketIndex: context.socketIndex, localTag: statelessTag(for: message))
        let txn = ProxyTransaction(key: key, isInvite: method == .invite, state: state)
        let (stored, inserted) = serverTable.insertIfAbsent(key, txn)
        guard inserted else {
            absorbRetransmission(stored, worker: context.worker)
            return 0
        }
        counters.serverTransactionsCreated.add(1, ordering: .relaxed)
        context.transaction = txn
        locked(txn, worker: context.worker) { state in
            state.flags = context.flags
            state.awaitingFinal = true
            counters.awaitingFinalNow.add(1, ordering: .relaxed)
            serverEvent(.start, response: nil, txn: txn, state: &state, worker: context.worker)
        }
        return 1
    }

    /// `t_relay([destination])`: forwards the request statefully (ACK and unmatched CANCEL
    /// statelessly) to `destination`, else `$du`, else the top Route, else the Request-URI.
    /// Returns the script code of ``relayOutcome(_:to:)``.
    public func relay(_ context: RequestContext, to destination: String? = nil) -> Int32 {
        relayOutcome(context, to: destination).scriptCode
    }

    /// `t_relay` as a typed outcome. The branch's request is sent after the transaction's lock is released.
    public func relayOutcome(_ context: RequestContext, to destination: String? = nil) -> RelayOutcome {
        guard let method = context.message.method else { return .noTransaction }
        if method == .ack || method == .cancel { return forwardStatelessly(context, to: destination) }
        // RFC 3261 §16.3 step 3 on the received value; once the script processed Max-Forwards
        // (mf_process_maxfwd_header) the request goes on with the value it set.
        if !context.message.isHeaderRewritten(.maxForwards), let maxForwards = try? context.message.maxForwards(),
           maxForwards <= 0 {
            logger.debug("Max-Forwards exhausted; 483", metadata: Self.metadata(for: context.message, peer: context.source))
            _ = reply(context, status: 483, reason: "Too Many Hops")
            return .tooManyHops
        }
        if context.transaction == nil {
            switch newTransaction(context) {
            case 0: return .absorbed
            case ..<0: return .noTransaction
            default: break
            }
        }
        guard let txn = context.transaction else { return .noTransaction }
        // Parallel forking: the Request-URI (with $du) is branch 0, the branch set follows; an explicit
        // destination sends the request there alone.
        var plans: [(message: SIPMessage, destinationURI: String?)] = [(context.message, context.destinationURI)]
        if destination == nil {
            for extra in context.branches { plans.append((extra.request(from: context.message), extra.destinationURI)) }
        }
        context.branches = []
        let forking = plans.count > 1
        var outgoing: [(branchID: String, bytes: [UInt8], target: SocketAddress)] = []
        var refusal = RelayOutcome.noNextHop
        for plan in plans {
            switch prepareBranch(plan.message, destinationURI: plan.destinationURI, override: destination,
                                 context: context, txn: txn, repliesOnRefusal: !forking) {
            case .success(let branch): outgoing.append(branch)
            case .failure(let why): refusal = why.outcome
            }
        }
        guard !outgoing.isEmpty else { return refusal }
        let socketIndex = context.socketIndex
        for branch in outgoing {
            clientTable.set(ClientKey(branch: branch.branchID, isCancel: false), txn)
            rememberSilentBranch(branch.branchID, destination: branch.target)
        }
        let added = locked(txn, worker: context.worker) { state -> Bool in
            guard !state.cancelled, state.finalStatus == 0 else { return false }
            if state.relayedRequest == nil { state.relayedRequest = context.message }
            state.flags = context.flags
            if let route = context.failureRoute { state.failureRoute = route }
            if let route = context.replyRoute { state.replyRoute = route }
            if let route = context.branchRoute { state.branchRoute = route }
            // Every branch is in the set before any can fail, so no outcome completes the transaction early.
            for branch in outgoing {
                let machine: ProxyBranch.Machine = method == .invite
                    ? .invite(InviteClientTransaction(settings: settings.timers, reliable: false, usesTimerC: true))
                    : .nonInvite(NonInviteClientTransaction(settings: settings.timers, reliable: false))
                state.branches.append(ProxyBranch(branchID: branch.branchID, machine: machine, request: branch.bytes,
                                                  destination: branch.target, socketIndex: socketIndex))
                counters.clientTransactionsCreated.add(1, ordering: .relaxed)
                // `.start` only arms the branch's timers (nothing is sent under the lock).
                _ = clientEvent(.start, branch: state.branches.count - 1, response: nil, txn: txn, state: &state,
                                worker: context.worker)
            }
            return true
        }
        guard added else {
            for branch in outgoing {
                clientTable.remove(ClientKey(branch: branch.branchID, isCancel: false))
                forgetSilentBranch(branch.branchID, destination: branch.target)
            }
            return .transactionClosed
        }
        context.relayed = true
        // Sent with the lock released. Nothing can reach a branch before its request left: a reply
        // needs the request, its timers run on this worker, and a CANCEL only marks it (no provisional yet).
        for branch in outgoing where !context.worker.send(branch.bytes, to: branch.target, socketIndex: socketIndex) {
            let branchID = branch.branchID
            let post = locked(txn, worker: context.worker) { state -> PostAction in
                guard let index = state.branches.firstIndex(where: { $0.branchID == branchID }) else { return .none }
                logger.warning("cannot send request to next hop",
                               metadata: Self.metadata(for: txn, state: state, branch: index))
                return clientEvent(.transportError, branch: index, response: nil, txn: txn, state: &state,
                                   worker: context.worker)
            }
            runPostAction(post, txn: txn, worker: context.worker)
        }
        return .relayed
    }

    /// One branch of a `t_relay`: the branch route run on its copy of the request, its next hop found,
    /// our Via added; or why it goes nowhere (dropped by the branch route, no next hop).
    private func prepareBranch(_ message: SIPMessage, destinationURI: String?, override destination: String?,
                               context: RequestContext, txn: ProxyTransaction, repliesOnRefusal: Bool)
        -> Result<(branchID: String, bytes: [UInt8], target: SocketAddress), NextHopRefusal> {
        // t_on_branch: the branch route works on this branch's own copy of the request.
        var branchMessage = message
        var branchDestination = destinationURI
        if let route = context.branchRoute {
            let branchContext = RequestContext(message: message, source: context.source,
                                               socketIndex: context.socketIndex, worker: context.worker,
                                               core: self, transaction: txn)
            branchContext.destinationURI = destinationURI
            branchContext.flags = context.flags
            guard router.routeBranch(route, branchContext) else {
                return .failure(NextHopRefusal(outcome: .droppedByBranchRoute))
            }
            branchMessage = branchContext.message
            branchDestination = branchContext.destinationURI
        }
        let target: SocketAddress
        if repliesOnRefusal {
            switch relayTarget(message: branchMessage, destinationURI: branchDestination, override: destination,
                               context: context) {
            case .success(let address): target = address
            case .failure(let refusal): return .failure(refusal)
            }
        } else {
            // One branch of several: a branch without an address is left out; the others go on.
            switch nextHop(message: branchMessage, destinationURI: branchDestination, override: destination) {
            case .address(let address): target = address
            case .hostNameFromPacket:
                counters.hostNamesRefused.add(1, ordering: .relaxed)
                return .failure(NextHopRefusal(outcome: .hostNameRefused))
            case .unusable:
                return .failure(NextHopRefusal(outcome: .noNextHop))
            }
        }
        let branchID = Branch.generate()
        var outgoing = branchMessage
        prepareForForwarding(&outgoing, branch: branchID, socketIndex: context.socketIndex)
        return .success((branchID, outgoing.serialize(), target))
    }

    /// Why a request has no address to go to, as the relay outcome it gives.
    struct NextHopRefusal: Error {
        let outcome: RelayOutcome
    }

    /// The address a relayed request goes to; a host name from the packet is refused (503, never looked
    /// up) and no usable next hop is logged, each as the relay outcome it gives (stateful or stateless).
    private func relayTarget(message: SIPMessage, destinationURI: String?, override destination: String?,
                             context: RequestContext) -> Result<SocketAddress, NextHopRefusal> {
        switch nextHop(message: message, destinationURI: destinationURI, override: destination) {
        case .address(let address):
            return .success(address)
        case .hostNameFromPacket(let name):
            refuseHostName(name, context: context)
            return .failure(NextHopRefusal(outcome: .hostNameRefused))
        case .unusable:
            logger.info("t_relay: no usable next hop", metadata: Self.metadata(for: context.message))
            return .failure(NextHopRefusal(outcome: .noNextHop))
        }
    }

    /// Forwards without a transaction (ACK for 2xx, CANCEL that matched nothing): the branch is
    /// derived from the incoming one so that retransmissions keep it (RFC 3261 §16.11).
    func forwardStatelessly(_ context: RequestContext, to destination: String?) -> RelayOutcome {
        let target: SocketAddress
        switch relayTarget(message: context.message, destinationURI: context.destinationURI, override: destination,
                           context: context) {
        case .success(let address): target = address
        case .failure(let refusal): return refusal.outcome
        }
        let incoming = (try? context.message.topVia())?.branch ?? context.message.callID ?? ""
        var outgoing = context.message
        prepareForForwarding(&outgoing, branch: Branch.derived(from: incoming), socketIndex: context.socketIndex)
        guard context.worker.send(outgoing.serialize(), to: target, socketIndex: context.socketIndex) else {
            logger.warning("cannot send request to next hop", metadata: Self.metadata(for: context.message).merging(
                [LogMetadataKey.destination: .string("\(target)")]) { _, new in new })
            return .sendFailed
        }
        context.relayed = true
        return .relayed
    }

    /// RFC 3261 §16.6 steps 3 and 8: Max-Forwards decremented (70 when absent) unless the script already
    /// processed it (`mf_process_maxfwd_header`: decremented once, not twice), our Via on top.
    func prepareForForwarding(_ message: inout SIPMessage, branch: String, socketIndex: Int) {
        if message.isHeaderRewritten(.maxForwards) {
            // Set by the script: sent as it is.
        } else if let maxForwards = try? message.maxForwards() {
            message.setHeader(.maxForwards, String(max(0, maxForwards - 1)))
        } else {
            message.appendHeader(.maxForwards, "70")
        }
        message.prependHeader(.via, viaPrefix[socketIndex < viaPrefix.count ? socketIndex : 0] + branch)
    }

    /// The next hop: an explicit destination, `$du`, the top Route, or the Request-URI.
    ///
    /// Host names are looked up only in what the script chose (`t_relay("…")`, `$du`); in the top
    /// Route and the Request-URI only IP literals are used (see ``NextHop``).
    func nextHop(message: SIPMessage, destinationURI: String?, override: String?) -> NextHop.Resolution {
        if let text = override ?? destinationURI {
            return NextHop.address(forURIText: text, origin: .script)
        }
        if let top = try? message.routes().first, let uri = top.uri.sipURI {
            return NextHop.address(for: uri, origin: .packet)
        }
        guard let uri = try? message.requestURI()?.sipURI else { return .unusable }
        return NextHop.address(for: uri, origin: .packet)
    }

    /// The next hop is a host name from the packet: counted, and a 503 for anything but ACK and
    /// CANCEL (t_relay then returns -1 and a later reply from the script is not sent).
    func refuseHostName(_ name: String, context: RequestContext) {
        counters.hostNamesRefused.add(1, ordering: .relaxed)
        logger.debug("next hop is a host name from the request; not resolved, 503",
                     metadata: Self.metadata(for: context.message, peer: context.source).merging(
                         [LogMetadataKey.destination: .string(name)]) { _, new in new })
        guard let method = context.message.method, method != .ack, method != .cancel, !context.replied else { return }
        _ = reply(context, status: 503, reason: "Service Unavailable (next hop not resolved)")
    }

    /// `sl_send_reply(code, reason)`: a reply without a transaction.
    public func statelessReply(_ context: RequestContext, status: Int, reason: String?,
                               extraHeaders: [(HeaderName, String)] = []) -> Int32 {
        // ACKs get no reply; a request that already got its final reply gets no second one.
        guard context.message.method != .ack, !(context.replied && status >= 200) else { return -1 }
        sendStatelessReply(to: context.message, source: context.source, socketIndex: context.socketIndex,
                           status: status, reason: reason, worker: context.worker, extraHeaders: extraHeaders)
        if status >= 200 { context.replied = true }
        return 1
    }

    /// `t_reply(code, reason)`: a reply in the request's transaction (created if needed).
    public func reply(_ context: RequestContext, status: Int, reason: String?,
                      extraHeaders: [(HeaderName, String)] = []) -> Int32 {
        if context.transaction == nil {
            let created = newTransaction(context)
            guard created > 0 else { return created }
        }
        guard let txn = context.transaction else { return -1 }
        let sent = locked(txn, worker: context.worker) { state -> Bool in
            guard state.finalStatus == 0 else { return false }
            let bytes = localResponse(to: state, status: status, reason: reason, extraHeaders: extraHeaders)
            sendUpstream(bytes, status: status, txn: txn, state: &state, worker: context.worker)
            return true
        }
        if sent && status >= 200 { context.replied = true }
        return sent ? 1 : -1
    }

    /// `t_check_trans()`: 1 if the request belongs to a transaction (its own, or for CANCEL/ACK the
    /// INVITE's), -1 otherwise.
    public func checkTransaction(_ context: RequestContext) -> Int32 {
        if context.transaction != nil { return 1 }
        guard let method = context.message.method, let via = try? context.message.topVia(),
              let key = serverKey(for: context.message, via: via, method: method) else { return -1 }
        let lookupKey = method == .ack || method == .cancel
            ? TransactionKey(branch: key.branch, sentBy: key.sentBy, method: .invite) : key
        return serverTable.lookup(lookupKey) == nil ? -1 : 1
    }

    /// `record_route()`: adds our Record-Route (`<sip:IP:PORT;lr>`) on top.
    public func recordRoute(_ context: RequestContext) -> Int32 {
        let index = context.socketIndex < recordRouteValue.count ? context.socketIndex : 0
        context.message.prependHeader(.recordRoute, recordRouteValue[index])
        return 1
    }

    /// `loose_route()`: RFC 3261 §16.4 — if the Request-URI is ours (a strict router before us), the
    /// last Route becomes the Request-URI; Route entries naming us are removed. Returns 1 if the
    /// request had a Route set, -1 if it had none.
    public func looseRoute(_ context: RequestContext) -> Int32 {
        guard var routes = try? context.message.routes(), !routes.isEmpty else { return -1 }
        if let uri = try? context.message.requestURI()?.sipURI, isMyself(uri: uri), let last = routes.last {
            context.message.setRequestURI(last.uriText)
            routes.removeLast()
            context.message.removeHeaders(.route)
            for route in routes { context.message.appendHeader(.route, route.description) }
        }
        while let first = routes.first, let uri = first.uri.sipURI, isMyself(uri: uri) {
            context.message.removeFirstValue(.route)
            routes.removeFirst()
        }
        return 1
    }
}
