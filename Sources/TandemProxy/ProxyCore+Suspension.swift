import Logging
import Reactor
import SIPCore
import Synchronization

/// What a suspended request keeps in its transaction while an async operation runs: its record (the
/// request as the script left it, out of line) and the hook that cancels the operation when a CANCEL
/// arrives. (The AVPs are the transaction's `scriptState`, which every route of the transaction
/// shares, suspended or not.)
struct SuspendedRequest: Sendable {
    let record: any SuspendedRequestRecord
    /// Called (once) when a CANCEL arrives while suspended: cancels the operation at its driver.
    var onCancel: SuspensionCancelHook?
}

/// A request as the script left it when it suspended: the message with every change the script made,
/// its flags, and the rest of the route's state (`$du`, armed routes, …).
public struct SuspendedRequestState: Sendable {
    let message: SIPMessage
    let flags: UInt64
    /// The rest of what the script set (``SuspendedRouteState``); nil when all of it has its default
    /// value, as for a request that only waits.
    let route: SuspendedRouteState?

    /// The request of `context` as it is now.
    public init(_ context: RequestContext) {
        message = context.message
        flags = context.flags
        route = SuspendedRouteState.of(context)
    }
}

/// The object a transaction holds while its request is suspended: it keeps the request as the script
/// left it (``SuspendedRequestState``). Out of line, so that a transaction holds one reference while
/// it waits; the router's record is also the async job and its cancel hook, so that a suspension is one
/// allocation (issue 19: memory per suspended transaction).
public protocol SuspendedRequestRecord: AnyObject, Sendable {
    /// The request as the script left it (immutable).
    var suspendedRequest: SuspendedRequestState { get }
}

/// The record of a request suspended without a router's own record (``ProxyCore/suspend(_:)-(RequestContext)``).
final class PlainSuspendedRequest: SuspendedRequestRecord {
    let suspendedRequest: SuspendedRequestState

    init(_ context: RequestContext) { suspendedRequest = SuspendedRequestState(context) }
}

/// An object that cancels a suspension's async operation at its driver: the record the router keeps
/// for the suspension anyway, registered as its cancel hook instead of a closure (issue 19: memory per
/// suspended transaction). ``cancelSuspendedOperation()`` may be called from any worker thread, never
/// under a transaction's lock.
public protocol SuspensionCanceller: AnyObject, Sendable {
    /// Cancels the operation (once; the suspension's job then ends with `$rc` = -1).
    func cancelSuspendedOperation()
}

/// What cancels a suspension's operation: a closure or a ``SuspensionCanceller``.
public enum SuspensionCancelHook: Sendable {
    case closure(@Sendable () -> Void)
    case canceller(any SuspensionCanceller)

    /// Runs the hook.
    public func callAsFunction() {
        switch self {
        case .closure(let body): body()
        case .canceller(let canceller): canceller.cancelSuspendedOperation()
        }
    }
}

/// What else the script set on a request before it suspended, kept for the route that goes on (a resume
/// route, or the same route continued at a transparently suspending call): `$du`, the armed routes, the
/// branch set (`append_branch`), `append_to_reply` lines, `$T_fr_timeout`/`$T_fr_inv_timeout`, the failure
/// route being run, the Request-URI branch's flags and the serialized groups. Out of line and only when
/// one of them is set: most suspended requests have none.
final class SuspendedRouteState: Sendable {
    let destinationURI: String?
    let failureRoute: Int?
    let replyRoute: Int?
    let branchRoute: Int?
    let branches: [BranchTarget]
    let replyHeaders: [(HeaderName, String)]
    let finalResponseTimeout: Int64?
    let inviteFinalResponseTimeout: Int64?
    /// Suspended inside a failure route: the final reply waits for the resume route.
    let inFailureRoute: Bool
    let failureStatus: Int
    let branchFlags: UInt64
    let serialBranches: [[BranchTarget]]

    /// The state `context` is in, or nil when every part of it has its default value.
    static func of(_ context: RequestContext) -> SuspendedRouteState? {
        if context.destinationURI == nil, context.failureRoute == nil, context.replyRoute == nil,
           context.branchRoute == nil, context.branches.isEmpty, context.replyHeaders.isEmpty,
           context.finalResponseTimeout == nil, context.inviteFinalResponseTimeout == nil,
           !context.inFailureRoute, context.failureStatus == 0, context.branchFlags == 0,
           context.serialBranches.isEmpty {
            return nil
        }
        return SuspendedRouteState(context)
    }

    private init(_ context: RequestContext) {
        destinationURI = context.destinationURI
        failureRoute = context.failureRoute
        replyRoute = context.replyRoute
        branchRoute = context.branchRoute
        branches = context.branches
        replyHeaders = context.replyHeaders
        finalResponseTimeout = context.finalResponseTimeout
        inviteFinalResponseTimeout = context.inviteFinalResponseTimeout
        inFailureRoute = context.inFailureRoute
        failureStatus = context.failureStatus
        branchFlags = context.branchFlags
        serialBranches = context.serialBranches
    }

    /// Puts the state back on a resumed request's context.
    func restore(into context: RequestContext) {
        context.destinationURI = destinationURI
        context.failureRoute = failureRoute
        context.replyRoute = replyRoute
        context.branchRoute = branchRoute
        context.branches = branches
        context.branchFlags = branchFlags
        context.serialBranches = serialBranches
        context.replyHeaders = replyHeaders
        context.finalResponseTimeout = finalResponseTimeout
        context.inviteFinalResponseTimeout = inviteFinalResponseTimeout
    }
}

/// What a reply held by an `async()` in an `onreply_route` keeps in its transaction: the reply with the
/// script's changes, the branch it came on, and the hook that cancels the operation (a CANCEL of the
/// transaction, Timer C of its branch, the transaction ending). The AVPs are the transaction's, as for
/// a request.
struct SuspendedReply: Sendable {
    let id: UInt32
    var message: SIPMessage
    let source: SocketAddress
    let branchIndex: Int
    let branchID: String
    let status: Int
    /// Its To tag and RSeq: with the status and branch, what a retransmission of it repeats (a reply
    /// from another fork downstream, or another reliable provisional, differs).
    let toTag: String?
    let rseq: String?
    var onCancel: SuspensionCancelHook?
    /// A CANCEL (Timer C, the transaction's end) came before the hook was registered: it runs at once.
    var cancelRequested = false
}

/// Which suspension of a transaction: its request (request, failure route) or one of its replies.
public enum SuspensionKey: Sendable, Hashable {
    /// The request: `async()` in a request or failure route.
    case request
    /// A reply held by `async()` in an `onreply_route` (ids are per transaction).
    case reply(UInt32)
}

/// One suspension the core keeps for a route waiting on an async operation: hand it back to
/// ``ProxyCore/resume(_:worker:)`` when the operation completes.
public struct Suspension: Sendable {
    /// The transaction that holds the suspended message.
    public let transaction: ProxyTransaction
    /// Which of its messages.
    public let key: SuspensionKey

    /// A suspension of `transaction`'s message `key`.
    public init(transaction: ProxyTransaction, key: SuspensionKey) {
        self.transaction = transaction
        self.key = key
    }

    /// Registers what cancels the operation (at its driver) when the transaction no longer wants it: a
    /// CANCEL, and for a held reply also Timer C of its branch or the end of the server transaction. Runs
    /// at once if that already happened (a request after a CANCEL; a reply after the transaction ended);
    /// ignored once the suspension was resumed. The hook never runs under the transaction's lock.
    public func setCancelHandler(_ handler: (@Sendable () -> Void)?) {
        setCancelHook(handler.map(SuspensionCancelHook.closure))
    }

    /// ``setCancelHandler(_:)`` with a hook that may be a ``SuspensionCanceller`` (no closure).
    public func setCancelHook(_ handler: SuspensionCancelHook?) {
        let runNow = transaction.state.withLock { state -> Bool in
            switch key {
            case .request:
                if state.cancelled { return true }
                state.suspended?.onCancel = handler
            case .reply(let id):
                guard let index = state.suspendedReplies.firstIndex(where: { $0.id == id }) else { return false }
                // A reply held after the CANCEL (a 487, say) keeps its job; one held when the
                // transaction already ended has nobody waiting for it.
                if state.serverTerminated || state.suspendedReplies[index].cancelRequested { return true }
                state.suspendedReplies[index].onCancel = handler
            }
            return false
        }
        if runNow, let handler { handler() }
    }
}

/// A suspended route handed back by ``ProxyCore/resume(_:worker:)``: the context its resume route runs in.
public enum ResumedRoute {
    /// A request or failure route: end it with ``ProxyCore/routeFinished(_:)-(RequestContext)``.
    case request(RequestContext)
    /// An `onreply_route`: end it with ``ProxyCore/routeFinished(_:verdict:)``.
    case reply(ReplyContext)
}

/// Suspending a transaction's request or one of its replies while the script waits for an async
/// operation, and resuming it: one kind of value kept in the transaction, one resume entry.
extension ProxyCore {
    /// Suspends the request of `context` (`async()`, or a plain call of a transparently suspending
    /// function such as `proxy_authorize`, whose route continues at the call): creates its transaction if needed (so
    /// retransmissions get 100 Trying or the last reply and never run the script again) and keeps the
    /// message as the script left it. Returns false if the request must not be resumed (another copy
    /// already owns the transaction, or it cannot have one).
    public func suspend(_ context: RequestContext) -> Bool {
        if context.transaction == nil {
            guard newTransaction(context) > 0 else { return false }
        }
        return suspend(context, as: PlainSuspendedRequest(context))
    }

    /// ``suspend(_:)-(RequestContext)`` of a request whose transaction exists, keeping `record` (made from
    /// `context` as it is now, possibly the router's own). False if `context` has no transaction.
    public func suspend(_ context: RequestContext, as record: any SuspendedRequestRecord) -> Bool {
        guard let txn = context.transaction else { return false }
        let saved = SuspendedRequest(record: record)
        txn.state.withLock { state in
            state.suspended = saved
            state.flags = context.flags
        }
        counters.suspendedNow.add(1, ordering: .relaxed)
        context.suspended = true
        return true
    }

    /// Suspends the reply of `context` (`async()` in an `onreply_route`): the transaction keeps it, with
    /// the script's changes, until ``resume(_:worker:)`` hands it back. Its branch's client transaction
    /// learns only that a reply is held: it stops retransmitting the request (Timer A/E) and ACKs a
    /// negative final reply to an INVITE at once (RFC 3261 §17.1.1.3); nothing goes upstream meanwhile,
    /// and retransmissions of the held reply are absorbed (``absorbHeldRetransmission``).
    public func suspend(_ context: ReplyContext) -> Suspension {
        let saved = locked(context.transaction, worker: context.worker) { state -> SuspendedReply in
            state.nextReplySuspension &+= 1
            let saved = SuspendedReply(id: state.nextReplySuspension, message: context.message,
                                       source: context.source, branchIndex: context.branchIndex,
                                       branchID: context.branchID, status: context.status,
                                       toTag: (try? context.message.to())?.tag,
                                       rseq: context.message.header(.rseq))
            state.suspendedReplies.append(saved)
            if let index = state.branches.firstIndex(where: { $0.branchID == context.branchID }) {
                // Only stops timers and sends the ACK: no post action.
                _ = clientEvent(.responseHeld(status: context.status), branch: index, response: context.message,
                                txn: context.transaction, state: &state, worker: context.worker)
            }
            return saved
        }
        counters.suspendedNow.add(1, ordering: .relaxed)
        return Suspension(transaction: context.transaction, key: .reply(saved.id))
    }

    /// The one resume entry: takes `suspension` out of its transaction and gives the context its resume
    /// route runs in (the request or reply as the script left it). Nil if it is no longer suspended.
    public func resume(_ suspension: Suspension, worker: WorkerContext) -> ResumedRoute? {
        let transaction = suspension.transaction
        switch suspension.key {
        case .request:
            let taken = transaction.state.withLock { state -> (SuspendedRequestState, SocketAddress, Int)? in
                guard let saved = state.suspended else { return nil }
                state.suspended = nil
                return (saved.record.suspendedRequest, state.source, state.socketIndex)
            }
            guard let (saved, source, socketIndex) = taken else { return nil }
            counters.suspendedNow.add(-1, ordering: .relaxed)
            let context = RequestContext(message: saved.message, source: source, socketIndex: socketIndex,
                                         worker: worker, core: self, transaction: transaction,
                                         inFailureRoute: saved.route?.inFailureRoute ?? false,
                                         failureStatus: saved.route?.failureStatus ?? 0)
            context.flags = saved.flags
            saved.route?.restore(into: context)
            return .request(context)
        case .reply(let id):
            let taken = transaction.state.withLock { state -> SuspendedReply? in
                guard let index = state.suspendedReplies.firstIndex(where: { $0.id == id }) else { return nil }
                return state.suspendedReplies.remove(at: index)
            }
            guard let saved = taken else { return nil }
            counters.suspendedNow.add(-1, ordering: .relaxed)
            return .reply(ReplyContext(message: saved.message, source: saved.source, worker: worker,
                                       branchIndex: saved.branchIndex, core: self, transaction: transaction,
                                       branchID: saved.branchID, status: saved.status))
        }
    }

    /// True if `message` (`status`) on branch `index` is a retransmission of a reply held there (the
    /// UAS resends its provisional, or its final until ACKed: same status, To tag and RSeq): it is
    /// absorbed without running the reply routes again, and the branch's client transaction resends
    /// the ACK of a held negative final reply.
    func absorbHeldRetransmission(_ message: SIPMessage, status: Int, branch index: Int, txn: ProxyTransaction,
                                  state: inout ProxyTransaction.State, worker: WorkerContext) -> Bool {
        let branchID = state.branches[index].branchID
        guard state.suspendedReplies.contains(where: { $0.branchID == branchID && $0.status == status }) else {
            return false
        }
        let toTag = (try? message.to())?.tag
        let rseq = message.header(.rseq)
        guard state.suspendedReplies.contains(where: {
            $0.branchID == branchID && $0.status == status && $0.toTag == toTag && $0.rseq == rseq
        }) else { return false }
        _ = clientEvent(.responseHeld(status: status), branch: index, response: message, txn: txn,
                        state: &state, worker: worker)
        counters.heldReplyRetransmissionsAbsorbed.add(1, ordering: .relaxed)
        return true
    }

    /// The request context of `transaction`'s suspended request (``resume(_:worker:)`` for `.request`).
    public func resume(_ transaction: ProxyTransaction, worker: WorkerContext) -> RequestContext? {
        guard case .request(let context)? = resume(Suspension(transaction: transaction, key: .request),
                                                   worker: worker) else { return nil }
        return context
    }

    /// True once a CANCEL arrived for the transaction (a resume route's t_relay will fail).
    public func isCancelled(_ transaction: ProxyTransaction) -> Bool {
        transaction.state.withLock { $0.cancelled }
    }

    /// Called by the router when a route run ends: a transaction the script created but left without
    /// a branch, a reply or a pending async operation gets a 500 rather than waiting forever.
    public func routeFinished(_ context: RequestContext) {
        guard context.inFailureRoute, !context.suspended, let txn = context.transaction else {
            finishRoute(context)
            return
        }
        // A failure route resumed after async(): now the best reply may go, unless it added a branch.
        let post = locked(txn, worker: context.worker) { state -> PostAction in
            state.failureRouteRunning = false
            if let armed = context.failureRoute, context.relayed { state.failureRoute = armed }
            return completeIfDone(txn: txn, state: &state, worker: context.worker)
        }
        runPostAction(post, txn: txn, worker: context.worker)
    }

    /// Called by the router when the reply routes of a resumed reply ended: the reply goes on to its
    /// branch (as the script left it), unless the route dropped a provisional reply.
    public func routeFinished(_ context: ReplyContext, verdict: RouteVerdict) {
        switch verdict {
        case .suspended:
            return
        case .dropped where context.status < 200:
            logger.debug("onreply_route dropped a provisional reply",
                         metadata: Self.metadata(for: context.transaction).merging(
                             [LogMetadataKey.status: .stringConvertible(context.status)]) { _, new in new })
        case .dropped, .finished:
            deliverResponse(context.message, status: context.status, branch: context.branchID, isCancel: false,
                            txn: context.transaction, worker: context.worker)
        }
    }

    /// Takes the cancel hooks of the suspensions that a CANCEL (or the end of the transaction) ends:
    /// the request's and every held reply's (`branch` nil), or only the replies of `branch` (Timer C).
    /// The caller runs them once the lock is released.
    func takeCancelHooks(_ state: inout ProxyTransaction.State, branch: String? = nil) -> [SuspensionCancelHook] {
        var hooks: [SuspensionCancelHook] = []
        if branch == nil, let hook = state.suspended?.onCancel {
            state.suspended?.onCancel = nil
            hooks.append(hook)
        }
        for index in state.suspendedReplies.indices where branch == nil || state.suspendedReplies[index].branchID == branch {
            if let hook = state.suspendedReplies[index].onCancel {
                state.suspendedReplies[index].onCancel = nil
                hooks.append(hook)
            } else {
                // Suspended on another worker that has not registered its hook yet.
                state.suspendedReplies[index].cancelRequested = true
            }
        }
        return hooks
    }

    /// Runs `hooks` on `worker` once the transaction lock held now is released.
    func runAfterUnlock(_ hooks: [SuspensionCancelHook], worker: WorkerContext) {
        for hook in hooks {
            switch hook {
            case .closure(let body): worker.afterUnlock(body)
            case .canceller(let canceller): worker.afterUnlock { canceller.cancelSuspendedOperation() }
            }
        }
    }
}

extension ProxyTransaction {
    /// Registers what to do when a CANCEL arrives while the transaction's request waits (cancel the
    /// operation at its driver): ``Suspension/setCancelHandler(_:)`` of the request.
    public func setCancelHandler(_ handler: (@Sendable () -> Void)?) {
        Suspension(transaction: self, key: .request).setCancelHandler(handler)
    }

    /// ``setCancelHandler(_:)`` with a hook that may be a ``SuspensionCanceller`` (no closure).
    public func setCancelHook(_ hook: SuspensionCancelHook?) {
        Suspension(transaction: self, key: .request).setCancelHook(hook)
    }
}
