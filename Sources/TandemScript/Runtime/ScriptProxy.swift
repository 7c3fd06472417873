/// A call of a function that Tandem runs outside the interpreter (database, REST, exec...).
public struct ExternalCall: Sendable {
    public var function: FunctionID
    public var name: String
    /// Evaluated arguments; output-variable arguments are passed as their source text (`"$avp(x)"`).
    public var args: [ScriptValue]
    /// Output variables of each declared argument, resolved at compile time.
    public var outputs: [[OutputVariable]] = []

    /// The evaluated arguments with their output variables.
    public var arguments: HostCallArguments { HostCallArguments(values: args, outputs: outputs) }
}

/// Proxy operations the script triggers; implemented by the proxy core.
public protocol ScriptProxy: AnyObject {
    func slSendReply(code: Int, reason: String) -> Int
    /// `t_relay()`, `t_relay(flags)` or `t_relay("proto:host:port")`.
    func tRelay(flags: Int, destination: String?) -> Int
    func tNewTran() -> Int
    func tReply(code: Int, reason: String) -> Int
    func tCheckTrans() -> Int
    func tOnFailure(_ route: RouteID)
    func tOnReply(_ route: RouteID)
    func tOnBranch(_ route: RouteID)
    /// `t_on_failure("0")` / `t_on_branch("0")` when the script has no such route: no failure (branch)
    /// route runs for the transaction any more, as tm's route 0.
    func tDisarm(_ kind: RouteKind)
    func recordRoute() -> Int
    func looseRoute() -> Int
    /// Whether host[:port] is one of our addresses or aliases (`port` 0 = any port).
    func isMyself(host: String, port: Int) -> Bool
    /// `force_rport()`: the reply goes to the source port as if the top Via had `rport` (RFC 3581).
    func forceRport() -> Int
    /// `force_send_socket([proto:]IP[:port])`: 1 when the socket is one of ours, -1 otherwise.
    func forceSendSocket(_ socket: String) -> Int
    /// `force_tcp_alias([port])`: 1 when the request came over a stream connection (now reachable at
    /// the source IP and `port`, or the top Via's port), -1 otherwise.
    func forceTCPAlias(port: Int?) -> Int
    /// `t_was_cancelled()`: a CANCEL arrived for the transaction.
    func tWasCancelled() -> Bool
    /// `t_local_replied(which)`.
    func tLocalReplied(_ which: LocalReplyScope) -> Bool
    /// `append_to_reply(text)`: header lines added to the replies Tandem sends for this request.
    func appendToReply(_ raw: String)
    /// `$T_fr_timeout` (invite false) or `$T_fr_inv_timeout` (invite true), in seconds.
    func transactionTimeout(invite: Bool) -> Int?
    /// Assigns `$T_fr_timeout`/`$T_fr_inv_timeout` for the branches created afterwards; nil resets.
    func setTransactionTimeout(invite: Bool, seconds: Int?)
    /// Synchronous form of an external function (avp_db_query, rest_get, exec...).
    /// Return a negative code if it is not supported.
    func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int
    /// `append_branch([uri[, q]])`: adds a branch (no uri: the current Request-URI and `$du`).
    func appendBranch(uri: String?, q: String?) -> Int
    /// Branch flags of branch `index` (0: the Request-URI branch, 1…: the `append_branch` set in
    /// order); nil when there is no such branch.
    func branchFlags(index: Int) -> UInt64?
    /// Replaces the branch flags of branch `index`; false when there is no such branch.
    func setBranchFlags(index: Int, _ flags: UInt64) -> Bool
    /// Core `forward([destination])`: stateless relay; the `t_relay` return codes.
    func forward(destination: String?) -> Int
    /// How many branches follow the Request-URI branch (`$msg.branch.last_idx`).
    var messageBranchCount: Int { get }
    /// Message branch `index` (0: the Request-URI branch); nil when there is none.
    func messageBranch(index: Int) -> MessageBranch?
    /// Replaces message branch `index` (0 rewrites the Request-URI, `$du`, flags, forced socket);
    /// false when there is no such branch or a value is invalid.
    func setMessageBranch(index: Int, _ branch: MessageBranch) -> Bool
    /// Core `serialize_branches(clear_previous[, keep_order])`: the Request-URI and the branch set become
    /// groups of equal q for `next_branches()` (the branch set is emptied; `clear_previous` drops the groups
    /// of an earlier call). Returns 1, or -1 when there is nothing to serialize.
    func serializeBranches(clear: Bool, keepOrder: Bool) -> Int
    /// Core `next_branches()`: the next group becomes the Request-URI and branch set. 1 when more groups
    /// follow, 2 when it was the last, -1 when no group was left (OpenSIPS 3.6 core functions).
    func nextBranches() -> Int
    /// registrar `save(domain[, flags[, aor]])`.
    func registrarSave(domain: String, flags: String, aor: String?) -> Int
    /// nathelper `nat_uac_test(flags)`: 1 when a requested test finds a NAT, else -1.
    func natUACTest(flags: Int) -> Int
    /// nathelper `fix_nated_contact([uri_params])`.
    func fixNatedContact(uriParameters: String?) -> Int
    /// nathelper `fix_nated_register()`: the next `save` stores the source as the contacts' `received`.
    func fixNatedRegister() -> Int
    /// nathelper `add_rcv_param([flag])`.
    func addReceivedParameter(inURI: Bool) -> Int
    /// The `received` address of the next `save` (nil: none), e.g. from the registrar's `received_avp`.
    var registerReceived: String? { get set }
    /// registrar `lookup(domain[, flags[, aor]])`.
    func registrarLookup(domain: String, flags: String, aor: String?) -> Int
    /// registrar `is_registered(domain[, aor])` (and the older `registered`).
    func registrarIsRegistered(domain: String, aor: String?) -> Int
    /// The database work a registrar call (`save`, `lookup`, `is_registered`, `registered`) needs in a
    /// usrloc database mode, as the call's last value; `.null` when none (the host's business).
    func usrlocPlan(function: String, domain: String, flags: String, aor: String?) -> ScriptValue
    /// registrar `reg_fetch_contacts(domain, uri, profile)`: the AOR key and its live contacts (best first),
    /// each as `$ulc` attribute → value; nil when the URI gives no AOR.
    func registrarContacts(domain: String, uri: String) -> (aor: String, contacts: [[String: ScriptValue]])?
    /// registrar `remove(domain, aor[, contact])`.
    func registrarRemove(domain: String, aor: String, contact: String?) -> Int
    /// A reply with extra headers (digest challenges): in the transaction if there is one, else stateless.
    func sendReply(code: Int, reason: String, headers: [(String, String)]) -> Int
    /// The transaction's message a `$(<request>...)` / `$(<reply>...)` variable reads: the request in
    /// an onreply_route, the reply that decided a failure_route; nil when there is none.
    func contextMessage(_ context: PVContext) -> (any ScriptMessage)?
}

extension ScriptProxy {
    /// Default: no socket can be forced.
    public func forceSendSocket(_ socket: String) -> Int { -1 }
    /// Default: no stream connections.
    public func forceTCPAlias(port: Int?) -> Int { -1 }

    /// Default: external functions are not available synchronously.
    public func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int { -1 }
    /// Default: not supported.
    public func forceRport() -> Int { -1 }
    /// Default: no location service.
    public func registrarContacts(domain: String, uri: String) -> (aor: String, contacts: [[String: ScriptValue]])? { nil }
    /// Default: no database work.
    public func usrlocPlan(function: String, domain: String, flags: String, aor: String?) -> ScriptValue { .null }
    /// Default: no transaction, never cancelled.
    public func tWasCancelled() -> Bool { false }
    /// Default: no transaction, nothing replied locally.
    public func tLocalReplied(_ which: LocalReplyScope) -> Bool { false }
    /// Default: the header is dropped.
    public func appendToReply(_ raw: String) {}
    /// Default: unknown.
    public func transactionTimeout(invite: Bool) -> Int? { nil }
    /// Default: ignored.
    public func setTransactionTimeout(invite: Bool, seconds: Int?) {}
    public func appendBranch(uri: String?, q: String?) -> Int { -1 }
    /// Default: no branch set.
    public func branchFlags(index: Int) -> UInt64? { nil }
    public func setBranchFlags(index: Int, _ flags: UInt64) -> Bool { false }
    public func forward(destination: String?) -> Int { -1 }
    /// Default: no branch set.
    public var messageBranchCount: Int { 0 }
    public func messageBranch(index: Int) -> MessageBranch? { nil }
    public func setMessageBranch(index: Int, _ branch: MessageBranch) -> Bool { false }
    public func serializeBranches(clear: Bool, keepOrder: Bool) -> Int { -1 }
    public func nextBranches() -> Int { -1 }
    public func registrarSave(domain: String, flags: String, aor: String?) -> Int { -1 }
    /// Default: no request to test.
    public func natUACTest(flags: Int) -> Int { -1 }
    public func fixNatedContact(uriParameters: String?) -> Int { -1 }
    public func fixNatedRegister() -> Int { -1 }
    public func addReceivedParameter(inURI: Bool) -> Int { -1 }
    /// Default: no REGISTER being saved.
    public var registerReceived: String? {
        get { nil }
        set {}
    }
    public func registrarLookup(domain: String, flags: String, aor: String?) -> Int { -3 }
    public func registrarIsRegistered(domain: String, aor: String?) -> Int { -1 }
    public func registrarRemove(domain: String, aor: String, contact: String?) -> Int { -1 }
    public func sendReply(code: Int, reason: String, headers: [(String, String)]) -> Int { -1 }
    /// Default: nothing armed.
    public func tDisarm(_ kind: RouteKind) {}
    /// Default: no transaction, no other message.
    public func contextMessage(_ context: PVContext) -> (any ScriptMessage)? { nil }
}

/// Which replies `t_local_replied(which)` looks at (OpenSIPS tm).
public enum LocalReplyScope: String, Sendable, CaseIterable {
    /// Every final reply of the transaction's branches was generated locally.
    case all
    /// The final reply of the branch being handled was generated locally.
    case branch
    /// The last (winning) final reply was generated locally.
    case last
    /// At least one final reply was generated locally.
    case any
}
