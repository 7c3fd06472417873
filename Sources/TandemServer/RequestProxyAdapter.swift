import Reactor
import SIPCore
import TandemAsync
import TandemProxy
import TandemScript

/// The proxy operations of one request, as the routing script calls them (`t_relay`,
/// `sl_send_reply`, `record_route`, …). One per route run, on the worker running it.
final class RequestProxyAdapter: ScriptProxy {
    let context: RequestContext
    let script: Script
    /// The services of the worker running the route (nil: host-run functions fail).
    let services: WorkerServices?
    private var core: ProxyCore { context.core }

    init(context: RequestContext, script: Script, services: WorkerServices?) {
        self.context = context
        self.script = script
        self.services = services
    }

    func slSendReply(code: Int, reason: String) -> Int {
        Int(core.statelessReply(context, status: code, reason: reason.isEmpty ? nil : reason))
    }

    func tRelay(flags: Int, destination: String?) -> Int {
        Int(core.relay(context, to: destination.map(Self.uriText(forDestination:))))
    }

    func tNewTran() -> Int { Int(core.newTransaction(context)) }

    func tReply(code: Int, reason: String) -> Int {
        Int(core.reply(context, status: code, reason: reason.isEmpty ? nil : reason))
    }

    func tCheckTrans() -> Int { Int(core.checkTransaction(context)) }

    func tOnFailure(_ route: RouteID) { context.failureRoute = route.rawValue }
    func tOnReply(_ route: RouteID) { context.replyRoute = route.rawValue }
    func tOnBranch(_ route: RouteID) { context.branchRoute = route.rawValue }
    func tDisarm(_ kind: RouteKind) {
        if kind == .failure { core.armFailureRoute(context, nil) }
        if kind == .branch { core.armBranchRoute(context, nil) }
    }

    func recordRoute() -> Int { Int(core.recordRoute(context)) }

    func forceRport() -> Int { Int(core.forceRport(context)) }
    func forceSendSocket(_ socket: String) -> Int {
        guard let index = listenSocketIndex(socket) else { return -1 }
        context.forcedSocketIndex = index
        return 1
    }

    /// The listen socket named `proto:ip:port`, nil when the proxy has no such socket.
    private func listenSocketIndex(_ socket: String) -> Int? {
        guard let parsed = ScriptSocket.parse(socket), let address = SocketAddress(ip: parsed.host, port: UInt16(parsed.port))
        else { return nil }
        return core.settings.socketIndex(transport: parsed.proto, address: address)
    }
    func forceTCPAlias(port: Int?) -> Int { Int(core.forceTCPAlias(context, port: port)) }
    func tWasCancelled() -> Bool { core.wasCancelled(context) }

    func tLocalReplied(_ which: LocalReplyScope) -> Bool {
        switch which {
        case .all: return core.locallyReplied(context, .all)
        case .any: return core.locallyReplied(context, .any)
        // A failure route runs for the reply that decided the outcome: the branch and the last are it.
        case .branch, .last: return core.locallyReplied(context, .last)
        }
    }

    func appendToReply(_ raw: String) {
        for (name, value) in SIPMessageAdapter.headerLines(raw) { context.replyHeaders.append((HeaderName(name), value)) }
    }

    func transactionTimeout(invite: Bool) -> Int? { core.transactionTimeout(context, invite: invite) }

    func setTransactionTimeout(invite: Bool, seconds: Int?) {
        core.setTransactionTimeout(context, invite: invite, seconds: seconds)
    }
    func looseRoute() -> Int { Int(core.looseRoute(context)) }

    /// `$(<reply>...)` in a failure_route: the reply that decided it (none for a local timeout).
    func contextMessage(_ kind: PVContext) -> (any ScriptMessage)? {
        guard kind == .reply, let reply = context.failureReply else { return nil }
        return ContextMessageAdapter(reply.message, source: reply.source, local: nil, proto: "udp")
    }

    func isMyself(host: String, port: Int) -> Bool {
        if port == 0 {
            return (core.settings.listen + core.settings.tcpListen + core.settings.tlsListen).contains { $0.ip == host || "[\($0.ip)]" == host }
                || core.settings.aliases.contains { $0.lowercased() == host.lowercased() }
        }
        return core.isMyself(host: host, port: UInt16(clamping: port))
    }

    /// An async-capable function called outside `async()`/`launch()` runs synchronously on the worker,
    /// as in OpenSIPS (its blocking form, bounded by `async_timeout`).
    func invoke(_ call: ExternalCall, context execution: inout ExecutionContext) -> Int {
        AsyncBindings.invokeSynchronously(call.name, call.arguments, services: services, into: &execution)
    }

    func appendBranch(uri: String?, q: String?) -> Int {
        var qValue: Int?
        if let q, !q.isEmpty {
            guard let parsed = BranchTarget.parseQ(q) else { return -1 }
            qValue = parsed
        }
        guard let uri else {
            // No URI, as OpenSIPS: the Request-URI branch moves into the new branch with its $du, branch
            // flags and forced socket, and the Request-URI branch keeps only its URI (those are reset).
            guard let current = context.message.requestURIText else { return -1 }
            context.branches.append(BranchTarget(uri: current, q: qValue, destinationURI: context.destinationURI,
                                                 flags: context.branchFlags, socketIndex: context.forcedSocketIndex))
            context.destinationURI = nil
            context.branchFlags = 0
            context.forcedSocketIndex = nil
            return 1
        }
        guard (try? URI(parsing: uri)) != nil else { return -1 }
        // With a URI, as OpenSIPS: the new branch takes the Request-URI branch's $du, branch flags and
        // forced socket; the Request-URI branch is left as it is.
        context.branches.append(BranchTarget(uri: uri, q: qValue, destinationURI: context.destinationURI,
                                             flags: context.branchFlags, socketIndex: context.forcedSocketIndex))
        return 1
    }

    func branchFlags(index: Int) -> UInt64? {
        if index == 0 { return context.branchFlags }
        guard index > 0, index <= context.branches.count else { return nil }
        return context.branches[index - 1].flags
    }

    func setBranchFlags(index: Int, _ flags: UInt64) -> Bool {
        if index == 0 { context.branchFlags = flags; return true }
        guard index > 0, index <= context.branches.count else { return false }
        context.branches[index - 1].flags = flags
        return true
    }

    var messageBranchCount: Int { context.branches.count }

    func messageBranch(index: Int) -> MessageBranch? {
        if index == 0 {
            guard let uri = context.message.requestURIText else { return nil }
            return MessageBranch(uri: uri, destinationURI: context.destinationURI, flags: context.branchFlags,
                                 socket: context.forcedSocketIndex.flatMap { core.settings.socketName(at: $0) },
                                 attributes: Self.scriptAttributes(context.branchAttributes))
        }
        guard index > 0, index <= context.branches.count else { return nil }
        let b = context.branches[index - 1]
        return MessageBranch(uri: b.uri, destinationURI: b.destinationURI,
                             path: b.path.isEmpty ? nil : b.path.joined(separator: ","), q: b.q, flags: b.flags,
                             socket: b.socketIndex.flatMap { core.settings.socketName(at: $0) },
                             attributes: Self.scriptAttributes(b.attributes))
    }

    func setMessageBranch(index: Int, _ branch: MessageBranch) -> Bool {
        guard (try? URI(parsing: branch.uri)) != nil else { return false }
        let attributes = branch.attributes.mapValues { v -> BranchAttribute in
            if case .int(let n) = v { return .int(n) }
            return .string(v.stringValue)
        }
        if index == 0 {
            if let socket = branch.socket {
                guard forceSendSocket(socket) == 1 else { return false }
            } else {
                context.forcedSocketIndex = nil
            }
            context.message.setRequestURI(branch.uri)
            context.destinationURI = branch.destinationURI
            context.branchFlags = branch.flags
            context.branchAttributes = attributes
            return true
        }
        guard index > 0, index <= context.branches.count else { return false }
        var socketIndex: Int?
        if let socket = branch.socket {
            guard let found = listenSocketIndex(socket) else { return false }
            socketIndex = found
        }
        var b = context.branches[index - 1]
        b.uri = branch.uri
        b.destinationURI = branch.destinationURI
        b.path = branch.path.map { $0.split(separator: ",").map { String($0) } } ?? []
        b.q = branch.q
        b.flags = branch.flags
        b.socketIndex = socketIndex
        b.attributes = attributes
        context.branches[index - 1] = b
        return true
    }

    private static func scriptAttributes(_ attributes: [String: BranchAttribute]) -> [String: ScriptValue] {
        attributes.mapValues { a in
            switch a {
            case .int(let n): return .int(n)
            case .string(let s): return .string(s)
            }
        }
    }

    func forward(destination: String?) -> Int {
        Int(core.forward(context, to: destination.map(Self.uriText(forDestination:))).scriptCode)
    }

    func serializeBranches(clear: Bool, keepOrder: Bool) -> Int {
        guard let current = context.message.requestURIText else { return -1 }
        let all = [BranchTarget(uri: current, q: nil, destinationURI: context.destinationURI,
                                flags: context.branchFlags, socketIndex: context.forcedSocketIndex)] + context.branches
        guard let groups = BranchSerialization.groups(all, keepOrder: keepOrder) else { return -1 }
        // 3.6: the added branches always move into the serial set; `clear` drops what an earlier
        // serialize_branches() left there (else the new groups go first, as a stack).
        context.serialBranches = clear ? groups : groups + context.serialBranches
        context.branches = []
        return 1
    }

    func nextBranches() -> Int {
        guard !context.serialBranches.isEmpty else { return -1 }
        let group = context.serialBranches.removeFirst()
        guard let first = group.first else { return -1 }
        context.message.setRequestURI(first.uri)
        context.destinationURI = first.destinationURI
        context.branchFlags = first.flags
        context.forcedSocketIndex = first.socketIndex
        context.branches = Array(group.dropFirst())
        // 3.6: 1 when more groups follow, 2 when this was the last one.
        return context.serialBranches.isEmpty ? 2 : 1
    }

    func registrarSave(domain: String, flags: String, aor: String?) -> Int {
        Int(core.save(context, flags: ProxyCore.SaveFlags(flags), aor: aor))
    }

    func natUACTest(flags: Int) -> Int {
        Int(core.natUACTest(context, tests: ProxyCore.NATTests(rawValue: flags)))
    }

    func fixNatedContact(uriParameters: String?) -> Int {
        Int(core.fixNatedContact(context, uriParameters: uriParameters))
    }

    func fixNatedRegister() -> Int { Int(core.fixNatedRegister(context)) }

    func addReceivedParameter(inURI: Bool) -> Int { Int(core.addReceivedParameter(context, inURI: inURI)) }

    var registerReceived: String? {
        get { context.registerReceived }
        set { context.registerReceived = newValue }
    }

    func registrarLookup(domain: String, flags: String, aor: String?) -> Int {
        Int(core.lookup(context, flags: flags, aor: aor))
    }

    func registrarIsRegistered(domain: String, aor: String?) -> Int {
        Int(core.isRegistered(context, aor: aor))
    }

    func usrlocPlan(function: String, domain: String, flags: String, aor: String?) -> ScriptValue {
        UsrlocBinding.plan(function: function, domain: domain, flags: flags, aor: aor, adapter: self)
    }

    func registrarContacts(domain: String, uri: String) -> (aor: String, contacts: [[String: ScriptValue]])? {
        guard let aor = core.aorKey(forURIText: uri) else { return nil }
        let now = core.locationSeconds(context.worker)
        let domainPart = aor.lastIndex(of: "@").map { String(aor[aor.index(after: $0)...]) }
        let contacts = core.location.contacts(of: aor, now: now).map { contact -> [String: ScriptValue] in
            var values: [String: ScriptValue] = [
                "addr": .string(contact.uri), "expires": .int(Int(contact.expires > now ? contact.expires - now : 0)),
                "callid": .string(contact.callID), "q": .string(BranchTarget.formatQ(contact.effectiveQ)),
                "cseq": .int(Int(contact.cseq)), "flags": .int(Int(truncatingIfNeeded: contact.flags)),
            ]
            values["domain"] = domainPart.map { .string($0) } ?? .null
            values["path"] = contact.path.isEmpty ? .null : .string(contact.path.joined(separator: ","))
            values["received"] = contact.received.map { .string($0) } ?? .null
            values["user_agent"] = contact.userAgent.map { .string($0) } ?? .null
            values["socket"] = socketText(contact.socketIndex).map { .string($0) } ?? .null
            values["sip_instance"] = contact.instance.map { .string($0) } ?? .null
            return values
        }
        return (aor, contacts)
    }

    /// `udp:IP:PORT` of listen socket `index` (the `socket` column of the location table).
    func socketText(_ index: Int) -> String? { UsrlocSQL.socketText(listen: core.settings.listen, index: index) }

    func registrarRemove(domain: String, aor: String, contact: String?) -> Int {
        Int(core.removeRegistration(aor: aor, contact: contact))
    }

    func sendReply(code: Int, reason: String, headers: [(String, String)]) -> Int {
        Int(core.localReply(context, status: code, reason: reason.isEmpty ? nil : reason,
                            extraHeaders: headers.map { (HeaderName($0.0), $0.1) }))
    }

    /// `t_relay("udp:host:port")` names a transport; the proxy wants a URI or `host:port`
    /// (`tcp:host:port` becomes `sip:host:port;transport=tcp`, `tls:` likewise).
    static func uriText(forDestination text: String) -> String {
        for prefix in ["udp:", "UDP:"] where text.hasPrefix(prefix) {
            return String(text.dropFirst(prefix.count))
        }
        for proto in ["tcp", "tls"] {
            for prefix in [proto + ":", proto.uppercased() + ":"] where text.hasPrefix(prefix) {
                return "sip:" + text.dropFirst(prefix.count) + ";transport=" + proto
            }
        }
        return text
    }
}
