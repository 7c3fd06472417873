import DNSResolver
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
        guard let method = message.method, method != .ack else { return -1 }
        let arrival = arrivalTopVia(of: context)
        guard let via = arrival?.via ?? (try? message.topVia()),
              let key = arrival?.key.flatMap({ $0.method == method ? $0 : nil })
                ?? serverKey(for: message, via: via, method: method) else { return -1 }
        // Over a stream the replies go back on the connection the request came on (``replyAddress``).
        let reliable = settings.transport(at: context.socketIndex).isReliable
        let upstream = MessageBuilders.responseAddress(for: via, source: context.source) ?? context.source
        let server: ProxyTransaction.ServerMachine = method == .invite
            ? .invite(InviteServerTransaction(settings: settings.timers, reliable: reliable, tryingPolicy: .immediately))
            : .nonInvite(NonInviteServerTransaction(settings: settings.timers, reliable: reliable))
        let state = ProxyTransaction.State(
            server: server, request: message, source: context.source, upstream: upstream,
            socketIndex: context.socketIndex,
            localTagNumber: statelessTagNumber(callID: message.firstValueBytes(.callID), branch: via.branch))
        let txn = ProxyTransaction(key: key, state: state)
        let (stored, inserted) = serverTable.insertIfAbsent(txn)
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

    /// The Via parsed at the request's arrival and the key made of it, while the first Via line is as it
    /// was then (the usual case): `try? context.message.topVia()` and the key ``serverKey(for:via:method:)``
    /// would make of it again. Nil when the line changed or was not kept.
    func arrivalTopVia(of context: RequestContext) -> (via: Via, key: TransactionKey?)? {
        guard let arrival = context.arrivalTopVia, let value = context.message.firstValueBytes(.via),
              value == arrival.value else { return nil }
        return (arrival.via, arrival.key)
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
        // Each branch leaves from its own forced socket, if it has one.
        var plans: [(message: SIPMessage, destinationURI: String?, flags: UInt64, forced: Int?)] =
            [(context.message, context.destinationURI, context.branchFlags, context.forcedSocketIndex)]
        if destination == nil {
            for extra in context.branches {
                plans.append((extra.request(from: context.message), extra.destinationURI, extra.flags,
                              extra.socketIndex))
            }
        }
        context.branches = []
        let forking = plans.count > 1
        let inputs = BranchInputs(relayedRequest: context.message, flags: context.flags,
                                  failureRoute: context.failureRoute, replyRoute: context.replyRoute,
                                  branchRoute: context.branchRoute, socketIndex: context.socketIndex,
                                  finalResponseTimeout: context.finalResponseTimeout,
                                  inviteFinalResponseTimeout: context.inviteFinalResponseTimeout,
                                  serialBranches: context.serialBranches)
        var outgoing: [PreparedBranch] = []
        var pending: [(lookup: PendingLocation, message: SIPMessage, flags: UInt64, transport: SIPTransport?,
                       forced: Int?)] = []
        var refusal = RelayOutcome.noNextHop
        for plan in plans {
            switch prepareBranch(plan.message, destinationURI: plan.destinationURI, flags: plan.flags,
                                 forced: plan.forced, override: destination, context: context, txn: txn,
                                 repliesOnRefusal: !forking) {
            case .ready(let branch): outgoing.append(branch)
            case .pending(let lookup, let message, let flags, let transport, let forced):
                pending.append((lookup, message, flags, transport, forced))
            case .refused(let why): refusal = why
            }
        }
        guard !outgoing.isEmpty || !pending.isEmpty else { return refusal }
        let worker = context.worker
        for branch in outgoing {
            clientTable.set(ClientKey(branch: branch.branchID, isCancel: false), txn)
            rememberSilentBranch(branch.branchID, destination: branch.target)
        }
        let added = locked(txn, worker: worker) { state -> Bool in
            guard !state.cancelled, state.finalStatus == 0 else { return false }
            inputs.store(in: &state)
            // A branch whose name is being located keeps the transaction open until it is added.
            beginLookups(pending.count, state: &state)
            let timers = branchTimers(finalResponseTimeout: inputs.finalResponseTimeout,
                                      inviteFinalResponseTimeout: inputs.inviteFinalResponseTimeout, state: &state)
            // Every branch is in the set before any can fail, so no outcome completes the transaction early.
            for branch in outgoing {
                appendBranch(branch, method: method, timers: timers, txn: txn, state: &state, worker: worker)
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
        for (lookup, message, flags, transport, forced) in pending {
            var inputs = inputs
            inputs.transport = transport
            inputs.forcedSocketIndex = forced
            lookup.whenDone(withTransport: { [weak self, txn, inputs] location, located in
                var branchInputs = inputs
                if branchInputs.transport == nil { branchInputs.transport = located }
                self?.lookupFinished(location, txn: txn, method: method, message: message, flags: flags,
                                     inputs: branchInputs, worker: worker)
            })
        }
        // Sent with the lock released. Nothing can reach a branch before its request left: a reply
        // needs the request, its timers run on this worker, and a CANCEL only marks it (no provisional yet).
        for branch in outgoing {
            sendBranch(branch.branchID, bytes: branch.bytes, to: branch.target, socketIndex: branch.socketIndex,
                       txn: txn, worker: worker)
        }
        return .relayed
    }

    /// `count` branches of the transaction wait for DNS: while any does, the transaction counts as
    /// suspended (`suspended_now`, bounded by `max_suspended` like an `async()` wait).
    private func beginLookups(_ count: Int, state: inout ProxyTransaction.State) {
        guard count > 0 else { return }
        if state.pendingLookups == 0 { counters.suspendedNow.add(1, ordering: .relaxed) }
        state.pendingLookups += count
    }

    /// One branch's DNS wait ended (answered, failed or cancelled).
    private func endLookup(state: inout ProxyTransaction.State) {
        state.pendingLookups -= 1
        if state.pendingLookups == 0 { counters.suspendedNow.add(-1, ordering: .relaxed) }
    }

    /// What a branch takes from the request context at `t_relay` time (kept while its name resolves).
    struct BranchInputs {
        var relayedRequest: SIPMessage
        var flags: UInt64
        var failureRoute: Int?
        var replyRoute: Int?
        var branchRoute: Int?
        var socketIndex: Int
        /// The transport the next hop asks for (nil: UDP).
        var transport: SIPTransport? = nil
        /// The socket `force_send_socket()` chose.
        var forcedSocketIndex: Int? = nil
        /// `$T_fr_timeout` / `$T_fr_inv_timeout` as the script left them (ms; nil: unchanged).
        var finalResponseTimeout: Int64?
        var inviteFinalResponseTimeout: Int64?
        /// `serialize_branches()` groups not tried yet.
        var serialBranches: [[BranchTarget]] = []

        /// Records the request, flags and armed routes in the transaction.
        func store(in state: inout ProxyTransaction.State) {
            if state.relayedRequest == nil { state.relayedRequest = relayedRequest }
            state.flags = flags
            state.serialBranches = serialBranches
            if let route = failureRoute { state.failureRoute = route }
            if let route = replyRoute { state.replyRoute = route }
            if let route = branchRoute { state.branchRoute = route }
        }
    }

    /// One branch ready to go: its request with our Via, where it goes first, and the other targets of
    /// its DNS set (failover re-sends `message`, the branch's request before our Via).
    struct PreparedBranch {
        var branchID: String
        var bytes: [UInt8]
        var target: SocketAddress
        var alternates: [SocketAddress]
        var message: SIPMessage
        /// The branch flags (`setbflag`) the branch is sent with.
        var flags: UInt64 = 0
        /// The listen socket it leaves from (its transport is the next hop's).
        var socketIndex: Int
        /// The socket the request came in on (double Record-Route on failover).
        var incoming: Int? = nil
        /// The next hop's transport (URI or DNS; nil: UDP) and the `force_send_socket()` socket.
        var transport: SIPTransport? = nil
        var forced: Int? = nil
    }

    /// Adds the client transaction of `branch` to the transaction (its timers armed; nothing sent).
    private func appendBranch(_ branch: PreparedBranch, method: SIPMethod, timers: TimerSettings,
                              txn: ProxyTransaction, state: inout ProxyTransaction.State, worker: WorkerContext) {
        // Over a stream no request is retransmitted (Timers A/E off) and Timers D/K are zero (RFC 3261 §17.1).
        let reliable = settings.transport(at: branch.socketIndex).isReliable
        let machine: ProxyBranch.Machine = method == .invite
            ? .invite(InviteClientTransaction(settings: timers, reliable: reliable, usesTimerC: true))
            : .nonInvite(NonInviteClientTransaction(settings: timers, reliable: reliable))
        var proxyBranch = ProxyBranch(branchID: branch.branchID, machine: machine, request: branch.bytes,
                                      destination: branch.target, socketIndex: branch.socketIndex)
        if !branch.alternates.isEmpty {
            proxyBranch.failover = ProxyBranch.Failover(message: branch.message, targets: branch.alternates,
                                                        incoming: branch.incoming, transport: branch.transport,
                                                        forced: branch.forced)
        }
        proxyBranch.flags = branch.flags
        state.branches.append(proxyBranch)
        counters.clientTransactionsCreated.add(1, ordering: .relaxed)
        // `.start` only arms the branch's timers (nothing is sent under the lock).
        _ = clientEvent(.start, branch: state.branches.count - 1, response: nil, txn: txn, state: &state,
                        worker: worker)
    }

    /// Sends a branch's request (the lock released); a send that fails is the branch's transport error.
    private func sendBranch(_ branchID: String, bytes: [UInt8], to target: SocketAddress, socketIndex: Int,
                            txn: ProxyTransaction, worker: WorkerContext) {
        guard !worker.send(bytes, to: target, socketIndex: socketIndex) else { return }
        let post = locked(txn, worker: worker) { state -> PostAction in
            guard let index = state.branches.firstIndex(where: { $0.branchID == branchID }) else { return .none }
            logger.warning("cannot send request to next hop",
                           metadata: Self.metadata(for: txn, state: state, branch: index))
            return clientEvent(.transportError, branch: index, response: nil, txn: txn, state: &state,
                               worker: worker)
        }
        runPostAction(post, txn: txn, worker: worker)
    }

    /// The answer for a branch that waited for DNS: the branch goes to the first target, or, when the
    /// name has no usable target, fails with 503 like an unreachable next hop (failure route or 503
    /// upstream).
    private func lookupFinished(_ location: SIPLocation, txn: ProxyTransaction, method: SIPMethod, message: SIPMessage,
                                flags: UInt64, inputs: BranchInputs, worker: WorkerContext) {
        if case .targets(let targets) = location, let first = targets.first {
            let branchID = Branch.generate()
            let (bytes, socketIndex) = forwarded(message, branch: branchID, transport: inputs.transport,
                                                 forced: inputs.forcedSocketIndex, family: first.family,
                                                 incoming: inputs.socketIndex)
            let branch = PreparedBranch(branchID: branchID, bytes: bytes, target: first,
                                        alternates: Array(targets.dropFirst()), message: message,
                                        flags: flags, socketIndex: socketIndex, incoming: inputs.socketIndex,
                                        transport: inputs.transport, forced: inputs.forcedSocketIndex)
            clientTable.set(ClientKey(branch: branchID, isCancel: false), txn)
            rememberSilentBranch(branchID, destination: first)
            let (added, post) = locked(txn, worker: worker) { state -> (Bool, PostAction) in
                endLookup(state: &state)
                // Cancelled or answered meanwhile: the branches already there may now be all that is left.
                guard !state.cancelled, state.finalStatus == 0 else {
                    return (false, completeIfDone(txn: txn, state: &state, worker: worker))
                }
                appendBranch(branch, method: method, timers: branchTimers(state: state),
                             txn: txn, state: &state, worker: worker)
                return (true, .none)
            }
            guard added else {
                clientTable.remove(ClientKey(branch: branchID, isCancel: false))
                forgetSilentBranch(branchID, destination: first)
                runPostAction(post, txn: txn, worker: worker)
                return
            }
            sendBranch(branchID, bytes: branch.bytes, to: first, socketIndex: socketIndex, txn: txn,
                       worker: worker)
            return
        }
        counters.hostNamesRefused.add(1, ordering: .relaxed)
        logger.debug("next hop name not resolved; branch fails with 503",
                     metadata: Self.metadata(for: message).merging(
                         [LogMetadataKey.destination: .string("\(location)")]) { _, new in new })
        let post = locked(txn, worker: worker) { state -> PostAction in
            endLookup(state: &state)
            guard !state.cancelled, state.finalStatus == 0 else {
                return completeIfDone(txn: txn, state: &state, worker: worker)
            }
            let timers = branchTimers(state: state)
            let machine: ProxyBranch.Machine = method == .invite
                ? .invite(InviteClientTransaction(settings: timers, reliable: false, usesTimerC: true))
                : .nonInvite(NonInviteClientTransaction(settings: timers, reliable: false))
            var unresolved = ProxyBranch(branchID: Branch.generate(), machine: machine, request: [],
                                         destination: Self.unresolvedDestination, socketIndex: inputs.socketIndex)
            unresolved.flags = flags
            state.branches.append(unresolved)
            return branchFailed(state.branches.count - 1, status: 503, txn: txn, state: &state, worker: worker)
        }
        runPostAction(post, txn: txn, worker: worker)
    }

    /// One branch of a `t_relay`, or why it goes nowhere.
    enum BranchPlan {
        /// Its next hop is known: ready to add and send.
        case ready(PreparedBranch)
        /// Its next hop's name is being located; `message` is the branch's request (branch route run),
        /// `forced` the socket it leaves from when one was forced.
        case pending(PendingLocation, message: SIPMessage, flags: UInt64, transport: SIPTransport?, forced: Int?)
        /// Dropped by the branch route, or no usable next hop.
        case refused(RelayOutcome)
    }

    /// One branch of a `t_relay`: the branch route run on its copy of the request, its next hop found
    /// (or being located), our Via added. `repliesOnRefusal`: the request's only branch answers 503 when
    /// its name is known not to resolve; one branch of several is just left out.
    private func prepareBranch(_ message: SIPMessage, destinationURI: String?, flags: UInt64, forced: Int?,
                               override destination: String?, context: RequestContext, txn: ProxyTransaction,
                               repliesOnRefusal: Bool) -> BranchPlan {
        // t_on_branch: the branch route works on this branch's own copy of the request (its flags as `$bf`).
        var branchMessage = message
        var branchDestination = destinationURI
        var branchFlags = flags
        var branchForced = forced
        if let route = context.branchRoute {
            let branchContext = RequestContext(message: message, source: context.source,
                                               socketIndex: context.socketIndex, worker: context.worker,
                                               core: self, transaction: txn)
            branchContext.destinationURI = destinationURI
            branchContext.flags = context.flags
            branchContext.branchFlags = flags
            branchContext.forcedSocketIndex = forced
            guard router.routeBranch(route, branchContext) else { return .refused(.droppedByBranchRoute) }
            branchMessage = branchContext.message
            branchDestination = branchContext.destinationURI
            branchFlags = branchContext.branchFlags
            branchForced = branchContext.forcedSocketIndex
        }
        switch relayTarget(message: branchMessage, destinationURI: branchDestination, override: destination,
                           context: context, repliesOnRefusal: repliesOnRefusal) {
        case .address(let target, let alternates, let located):
            let branchID = Branch.generate()
            let transport = nextHopTransport(message: branchMessage, destinationURI: branchDestination,
                                             override: destination) ?? located
            let (bytes, socketIndex) = forwarded(branchMessage, branch: branchID, transport: transport,
                                                 forced: branchForced, family: target.family,
                                                 incoming: context.socketIndex)
            return .ready(PreparedBranch(branchID: branchID, bytes: bytes, target: target,
                                         alternates: alternates, message: branchMessage, flags: branchFlags,
                                         socketIndex: socketIndex, incoming: context.socketIndex,
                                         transport: transport, forced: branchForced))
        case .pending(let lookup):
            return .pending(lookup, message: branchMessage, flags: branchFlags,
                            transport: nextHopTransport(message: branchMessage, destinationURI: branchDestination,
                                                        override: destination), forced: branchForced)
        case .refused(let outcome):
            return .refused(outcome)
        }
    }

    /// The destination recorded on a branch whose name did not resolve (never sent to).
    static let unresolvedDestination = SocketAddress(ip: "0.0.0.0", port: 0)!

    /// Where a relayed request goes: an address now (a literal or a cached name, with the other
    /// targets of its DNS set for failover), a lookup in flight, or a refusal as the relay outcome.
    enum RelayTarget {
        /// `transport`: the one DNS chose (NAPTR/SRV) when the URI named none; nil for UDP.
        case address(SocketAddress, alternates: [SocketAddress], transport: SIPTransport?)
        case pending(PendingLocation)
        case refused(RelayOutcome)
    }

    /// The next hop of a relayed request. A name not located (no record, DNS down) gets 503 when its
    /// answer is already known; no usable next hop is logged.
    private func relayTarget(message: SIPMessage, destinationURI: String?, override destination: String?,
                             context: RequestContext, repliesOnRefusal: Bool = true) -> RelayTarget {
        switch nextHop(message: message, destinationURI: destinationURI, override: destination) {
        case .address(let address):
            return .address(address, alternates: [], transport: nil)
        case .name(let host, let port, let secure):
            let named = nextHopTransport(message: message, destinationURI: destinationURI, override: destination)
            let lookup = locateNextHop(host: host, port: port, secure: secure, transport: named,
                                       worker: context.worker)
            guard let location = lookup.immediate else {
                if !settings.tlsListen.isEmpty {
                    // A TLS connection opened to the located address sends this name in SNI.
                    let streams = self.streams
                    lookup.whenDone { location in
                        if case .targets(let targets) = location { streams.noteServerName(host, for: targets) }
                    }
                }
                return .pending(lookup)
            }
            if case .targets(let targets) = location, let first = targets.first {
                if !settings.tlsListen.isEmpty { streams.noteServerName(host, for: targets) }
                return .address(first, alternates: Array(targets.dropFirst()), transport: lookup.transport)
            }
            refuseHostName(host, context: context, replies: repliesOnRefusal)
            return .refused(.hostNameRefused)
        case .unusable:
            logger.info("t_relay: no usable next hop", metadata: Self.metadata(for: context.message))
            return .refused(.noNextHop)
        }
    }

    /// Forwards without a transaction (ACK for 2xx, CANCEL that matched nothing): the branch is
    /// derived from the incoming one so that retransmissions keep it (RFC 3261 §16.11).
    func forwardStatelessly(_ context: RequestContext, to destination: String?) -> RelayOutcome {
        // The top Via's branch, read without building the Via (``SIPMessage/topViaBranch()``).
        let incoming = (try? context.message.topViaBranch()) ?? context.message.callID ?? ""
        let named = nextHopTransport(message: context.message, destinationURI: context.destinationURI,
                                     override: destination)
        // The request as it is now (the route may go on changing the context after this).
        let message = context.message, forced = context.forcedSocketIndex, incomingSocket = context.socketIndex
        let forward = { (family: SocketAddress.Family, located: SIPTransport?) -> (bytes: [UInt8], socketIndex: Int) in
            self.forwarded(message, branch: Branch.derived(from: incoming), transport: named ?? located,
                           forced: forced, family: family, incoming: incomingSocket)
        }
        switch relayTarget(message: context.message, destinationURI: context.destinationURI, override: destination,
                           context: context) {
        case .address(let target, _, let located):
            let (bytes, socketIndex) = forward(target.family, located)
            guard context.worker.send(bytes, to: target, socketIndex: socketIndex) else {
                logger.warning("cannot send request to next hop", metadata: Self.metadata(for: context.message).merging(
                    [LogMetadataKey.destination: .string("\(target)")]) { _, new in new })
                return .sendFailed
            }
        case .pending(let lookup):
            // Sent when the name is located; dropped if it is not (no transaction to answer).
            let worker = context.worker
            lookup.whenDone(withTransport: { location, located in
                if case .targets(let targets) = location, let first = targets.first {
                    let (bytes, socketIndex) = forward(first.family, located)
                    worker.send(bytes, to: first, socketIndex: socketIndex)
                }
            })
        case .refused(let outcome):
            return outcome
        }
        context.relayed = true
        return .relayed
    }

    /// The bytes of a forwarded request and the listen socket they leave from: the forced socket, or the
    /// one of the next hop's transport (``ProxySettings/outgoingSocket(for:family:incoming:)``). A request
    /// for a next hop that names no transport, larger than `udp_mtu` over UDP, goes over TCP when the
    /// proxy has a TCP socket (RFC 3261 §18.1.1).
    func forwarded(_ message: SIPMessage, branch: String, transport: SIPTransport?, forced: Int?,
                   family: SocketAddress.Family, incoming: Int) -> (bytes: [UInt8], socketIndex: Int) {
        var outgoing = message
        let socketIndex = forced ?? settings.outgoingSocket(for: transport, family: family, incoming: incoming)
        prepareForForwarding(&outgoing, branch: branch, socketIndex: socketIndex, incoming: incoming)
        let bytes = outgoing.serialize()
        let mtu = settings.stream.udpMTU
        guard mtu > 0, bytes.count > mtu, forced == nil, transport == nil, !settings.tcpListen.isEmpty,
              settings.transport(at: socketIndex) == .udp else { return (bytes, socketIndex) }
        let tcp = settings.outgoingSocket(for: .tcp, family: family, incoming: incoming)
        guard settings.transport(at: tcp) == .tcp else { return (bytes, socketIndex) }
        var switched = message
        prepareForForwarding(&switched, branch: branch, socketIndex: tcp, incoming: incoming)
        return (switched.serialize(), tcp)
    }

    /// RFC 3261 §16.6 steps 3 and 8: Max-Forwards decremented (70 when absent) unless the script already
    /// processed it (`mf_process_maxfwd_header`: decremented once, not twice), our Via on top.
    ///
    /// `incoming`: the socket the request came in on. When it differs from `socketIndex` (the request
    /// changes transport or interface) and the script record-routed it on `incoming`, a second
    /// Record-Route for `socketIndex` goes on top (`enable_double_rr`), so that in-dialog requests from
    /// either side come in on the socket facing that side and leave on the other.
    func prepareForForwarding(_ message: inout SIPMessage, branch: String, socketIndex: Int, incoming: Int? = nil) {
        if let incoming, incoming != socketIndex, settings.stream.doubleRecordRoute,
           incoming < recordRouteLine.count, socketIndex < recordRouteLine.count,
           message.header(.recordRoute) == recordRouteLine[incoming].value {
            message.prependHeader(recordRouteLine[socketIndex])
        }
        if message.isHeaderRewritten(.maxForwards) {
            // Set by the script: sent as it is.
        } else if let maxForwards = try? message.maxForwards() {
            message.setHeader(.maxForwards, String(max(0, maxForwards - 1)))
        } else {
            message.appendHeader(.maxForwards, "70")
        }
        message.prependHeader(.via, viaPrefix[socketIndex < viaPrefix.count ? socketIndex : 0], branch)
    }

    /// The transport the next hop asks for: `;transport=` of the URI ``nextHop(message:destinationURI:override:)``
    /// reads (`sips:` → TLS); nil when it names none.
    /// Without a TCP socket the answer changes nothing: UDP-only proxies skip the URI parse.
    func nextHopTransport(message: SIPMessage, destinationURI: String?, override: String?) -> SIPTransport? {
        guard settings.hasStreams else { return nil }
        let uri: SIPURI?
        if let text = override ?? destinationURI {
            uri = (try? URI(parsing: text))?.sipURI ?? (try? SIPURI(parsing: "sip:" + text))
        } else if let top = try? message.routes().first, let routeURI = top.uri.sipURI {
            uri = routeURI
        } else {
            uri = try? message.requestURI()?.sipURI
        }
        guard let uri else { return nil }
        if let transport = uri.transport {
            switch transport.lowercased() {
            case "tcp": return .tcp
            case "tls": return .tls
            case "udp": return .udp
            default: return nil
            }
        }
        return uri.isSecure ? .tls : nil
    }

    /// The next hop: an explicit destination, `$du`, the top Route, or the Request-URI.
    ///
    /// A host name, from the script or the packet, is located by the worker's resolver (see ``NextHop``).
    func nextHop(message: SIPMessage, destinationURI: String?, override: String?) -> NextHop.Resolution {
        if let text = override ?? destinationURI {
            return NextHop.address(forURIText: text)
        }
        // As `try? message.routes().first?.uri.sipURI`, then the Request-URI's, without building them.
        if let top = message.routeSetSummary()?.first {
            return NextHop.address(for: top)
        }
        guard let uri = message.requestSIPURIAddress() else { return .unusable }
        return NextHop.address(for: uri)
    }

    /// The next hop's name has no usable DNS answer (already known when t_relay ran): counted, and a
    /// 503 for anything but ACK and CANCEL (t_relay then returns -1 and a later reply is not sent).
    func refuseHostName(_ name: String, context: RequestContext, replies: Bool = true) {
        counters.hostNamesRefused.add(1, ordering: .relaxed)
        logger.debug("next hop name not resolved; 503",
                     metadata: Self.metadata(for: context.message, peer: context.source).merging(
                         [LogMetadataKey.destination: .string(name)]) { _, new in new })
        guard replies, let method = context.message.method, method != .ack, method != .cancel,
              !context.replied else { return }
        _ = reply(context, status: 503, reason: "Service Unavailable (next hop not resolved)")
    }

    /// `sl_send_reply(code, reason)`: a reply without a transaction.
    public func statelessReply(_ context: RequestContext, status: Int, reason: String?,
                               extraHeaders: [(HeaderName, String)] = []) -> Int32 {
        // ACKs get no reply; a request that already got its final reply gets no second one.
        guard context.message.method != .ack, !(context.replied && status >= 200) else { return -1 }
        sendStatelessReply(to: context.message, source: context.source, socketIndex: context.socketIndex,
                           status: status, reason: reason, worker: context.worker,
                           extraHeaders: extraHeaders + context.replyHeaders)
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
            let bytes = localResponse(to: state, status: status, reason: reason,
                                      extraHeaders: extraHeaders + context.replyHeaders)
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
            ? key.with(method: .invite) : key
        return serverTable.lookup(lookupKey) == nil ? -1 : 1
    }

    /// `record_route()`: adds our Record-Route (`<sip:IP:PORT;lr>`) on top.
    public func recordRoute(_ context: RequestContext) -> Int32 {
        let index = context.socketIndex < recordRouteLine.count ? context.socketIndex : 0
        context.message.prependHeader(recordRouteLine[index])
        return 1
    }

    /// `loose_route()`: RFC 3261 §16.4 — if the Request-URI is ours (a strict router before us), the
    /// last Route becomes the Request-URI; Route entries naming us are removed. Returns 1 if the
    /// request had a Route set, -1 if it had none.
    public func looseRoute(_ context: RequestContext) -> Int32 {
        // The usual case read without building the Route set or the Request-URI (``routeSetSummary()``,
        // ``requestSIPURIAddress()``): a Request-URI that is not ours, and Route entries naming us on top.
        guard let summary = context.message.routeSetSummary(), summary.count > 0 else { return -1 }
        if let uri = context.message.requestSIPURIAddress(), isMyself(host: String(uri.bareHost), port: uri.port) {
            return strictLooseRoute(context)
        }
        var remaining = summary
        while let uri = remaining.first, isMyself(host: String(uri.bareHost), port: uri.port) {
            context.message.dropFirstValue(.route)
            guard remaining.count > 1, let next = context.message.routeSetSummary() else { break }
            remaining = next
        }
        return 1
    }

    /// ``looseRoute(_:)`` with a Request-URI naming us (a strict router before us): the last Route becomes
    /// the Request-URI, then Route entries naming us are removed.
    private func strictLooseRoute(_ context: RequestContext) -> Int32 {
        guard var routes = try? context.message.routes(), !routes.isEmpty else { return -1 }
        if let uri = try? context.message.requestURI()?.sipURI, isMyself(uri: uri), let last = routes.last {
            context.message.setRequestURI(last.uriText)
            routes.removeLast()
            context.message.removeHeaders(.route)
            for route in routes { context.message.appendHeader(.route, route.description) }
        }
        while let first = routes.first, let uri = first.uri.sipURI, isMyself(uri: uri) {
            context.message.dropFirstValue(.route)
            routes.removeFirst()
        }
        return 1
    }
}
