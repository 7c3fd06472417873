import Reactor
import SIPCore

/// One request as the routing script sees it while a route runs: the message (which the script
/// may change), where it came from, and the transaction once one exists.
///
/// Lives on one worker thread for the duration of one route run; the proxy operations
/// (`t_relay`, `sl_send_reply`, …) are methods of `ProxyCore` that take it.
public final class RequestContext {
    /// The request, including the changes the script made so far.
    public var message: SIPMessage
    /// The address the request came from.
    public let source: SocketAddress
    /// The listen socket it arrived on (index into `ProxySettings.listen`).
    public let socketIndex: Int
    /// The worker running the script.
    public let worker: WorkerContext
    /// The proxy core.
    public let core: ProxyCore
    /// The transaction, once `t_newtran`/`t_relay` created it (or the one a failure route runs for).
    public internal(set) var transaction: ProxyTransaction?
    /// The listen socket `force_send_socket()` chose for relayed requests (nil: chosen per next hop).
    public var forcedSocketIndex: Int?
    /// `$du`: the next hop overriding the Request-URI and Route set.
    public var destinationURI: String?
    /// Message flags (`setflag`), copied into the transaction when it is created.
    public var flags: UInt64 = 0
    /// The branch set beside the Request-URI (`append_branch`, `lookup`): `t_relay()` forks to the
    /// Request-URI and every entry at once, then clears it.
    public var branches: [BranchTarget] = []
    /// Branch flags of the Request-URI branch (branch 0: `setbflag(F)`, `$bf`). In a branch route they
    /// are the flags of the branch being sent; in a failure route those of the branch that failed.
    public var branchFlags: UInt64 = 0
    /// `$msg.branch.attr(name)` of the Request-URI branch.
    public var branchAttributes: [String: BranchAttribute] = [:]
    /// The `received` address the next `save()` stores with the REGISTER's contacts: set by nathelper's
    /// `fix_nated_register()` or taken from the registrar's `received_avp`; nil: none (OpenSIPS stores
    /// `received` only when the script asked for it).
    public var registerReceived: String?
    /// Groups left by `serialize_branches()` for `next_branches()`, highest q first; kept in the
    /// transaction across `t_relay` and failure routes.
    public var serialBranches: [[BranchTarget]] = []
    /// Routes armed by `t_on_failure`, `t_on_reply`, `t_on_branch`, stored in the transaction at t_relay.
    public var failureRoute: Int?
    public var replyRoute: Int?
    public var branchRoute: Int?
    /// `$T_fr_timeout` / `$T_fr_inv_timeout` set by the script (ms), for the branches created afterwards.
    public var finalResponseTimeout: Int64?
    public var inviteFinalResponseTimeout: Int64?
    /// Header lines added by `append_to_reply` to the replies sent for this request (sl_send_reply, t_reply).
    public var replyHeaders: [(HeaderName, String)] = []
    /// True once a reply was sent for this request (statelessly or in its transaction).
    public internal(set) var replied = false
    /// True once the request was relayed (statefully or not).
    public internal(set) var relayed = false
    /// True once the request was suspended for an async operation.
    public internal(set) var suspended = false
    /// The top Via as the request's arrival parsed it, with the bytes of the Via line's value it was read
    /// from and the server transaction key made of it (nil unless an RFC 3261 branch made it, which
    /// depends on the Via and the method only): `t_newtran` uses them while the message's first Via line
    /// still has those bytes.
    var arrivalTopVia: (value: ArraySlice<UInt8>, via: Via, key: TransactionKey?)?
    /// True when this context runs a failure route.
    public let inFailureRoute: Bool
    /// Status code of the reply that triggered the failure route (`$T_reply_code`), 0 otherwise.
    public let failureStatus: Int

    init(message: SIPMessage, source: SocketAddress, socketIndex: Int, worker: WorkerContext, core: ProxyCore,
         transaction: ProxyTransaction? = nil, inFailureRoute: Bool = false, failureStatus: Int = 0) {
        self.message = message
        self.source = source
        self.socketIndex = socketIndex
        self.worker = worker
        self.core = core
        self.transaction = transaction
        self.inFailureRoute = inFailureRoute
        self.failureStatus = failureStatus
    }
}

/// A response received on a branch, as an `onreply_route` sees it.
public final class ReplyContext {
    /// The response (our Via still on top).
    public var message: SIPMessage
    /// Where it came from.
    public let source: SocketAddress
    /// The worker running the script.
    public let worker: WorkerContext
    /// The branch index it belongs to (`$T_branch_idx`).
    public let branchIndex: Int
    /// The proxy core.
    public let core: ProxyCore
    let transaction: ProxyTransaction
    let branchID: String
    let status: Int

    init(message: SIPMessage, source: SocketAddress, worker: WorkerContext, branchIndex: Int, core: ProxyCore,
         transaction: ProxyTransaction, branchID: String, status: Int) {
        self.message = message
        self.source = source
        self.worker = worker
        self.branchIndex = branchIndex
        self.core = core
        self.transaction = transaction
        self.branchID = branchID
        self.status = status
    }
}
