import Logging
import Synchronization
import Reactor
import SIPCore
import SIPTransaction

/// Work that must run after a transaction lock is released.
enum PostAction {
    case none
    /// Every branch failed and a failure route is armed: run it (status is the best reply's).
    case failureRoute(route: Int, status: Int)
}

extension ProxyCore {
    /// Feeds an event to branch `index` and carries out its effects.
    func clientEvent(_ event: ClientEvent, branch index: Int, response: SIPMessage?, txn: ProxyTransaction,
                     state: inout ProxyTransaction.State, worker: WorkerContext) -> PostAction {
        var effects = TransactionActions<ClientEffect>()
        state.branches[index].machine.handle(event) { effects.append($0) }
        var post = PostAction.none
        for effect in effects {
            let branch = state.branches[index]
            switch effect {
            case .retransmitRequest:
                worker.send(branch.request, to: branch.destination, socketIndex: branch.socketIndex)
            case .sendAck:
                if branch.ack == nil, let response, let sent = try? SIPMessage(parsing: branch.request) {
                    state.branches[index].ack = MessageBuilders.ack(for: sent, response: response)
                }
                if let ack = state.branches[index].ack {
                    worker.send(ack, to: branch.destination, socketIndex: branch.socketIndex)
                }
            case let .startTimer(timer, ms):
                let token = state.branches[index].timers.restart(timer)
                scheduleTimer(ms, worker: worker, txn: txn, .client(branch: index, cancel: false, timer, token: token))
            case .cancelTimers(let set):
                state.branches[index].timers.cancel(set)
            case .passResponse(let status):
                if let response {
                    post = branchResponse(index, status: status, response: response, txn: txn, state: &state,
                                          worker: worker)
                }
            case .timeout:
                logger.debug("no final reply from next hop; branch fails with 408",
                            metadata: Self.metadata(for: txn, state: state, branch: index, status: 408))
                post = branchFailed(index, status: 408, txn: txn, state: &state, worker: worker)
            case .transportError:
                logger.debug("next hop unreachable; branch fails with 503",
                            metadata: Self.metadata(for: txn, state: state, branch: index, status: 503))
                post = branchFailed(index, status: 503, txn: txn, state: &state, worker: worker)
            case .timerCExpired:
                runAfterUnlock(takeCancelHooks(&state, branch: branch.branchID), worker: worker)
                cancelBranch(index, txn: txn, state: &state, worker: worker)
            case .terminated:
                clientTable.remove(ClientKey(branch: branch.branchID, isCancel: false))
                state.branches[index].request = []
                state.branches[index].ack = nil
            }
        }
        return post
    }

    /// Feeds an event to the CANCEL client transaction of branch `index`. Its replies are absorbed.
    func cancelEvent(_ event: ClientEvent, branch index: Int, txn: ProxyTransaction,
                     state: inout ProxyTransaction.State, worker: WorkerContext) {
        guard case .sent(var machine, let bytes) = state.branches[index].cancel else { return }
        var effects = TransactionActions<ClientEffect>()
        machine.handle(event) { effects.append($0) }
        state.branches[index].cancel = .sent(machine, bytes: bytes)
        let branch = state.branches[index]
        for effect in effects {
            switch effect {
            case .retransmitRequest:
                worker.send(bytes, to: branch.destination, socketIndex: branch.socketIndex)
            case let .startTimer(timer, ms):
                let token = state.branches[index].cancelTimers.restart(timer)
                scheduleTimer(ms, worker: worker, txn: txn, .client(branch: index, cancel: true, timer, token: token))
            case .cancelTimers(let set):
                state.branches[index].cancelTimers.cancel(set)
            case .terminated:
                clientTable.remove(ClientKey(branch: branch.branchID, isCancel: true))
                state.branches[index].cancel = .sent(machine, bytes: [])
            default:
                break
            }
        }
    }

    func clientTimerFired(_ txn: ProxyTransaction, branch index: Int, cancel: Bool, _ timer: TransactionTimer,
                          token: UInt32, worker: WorkerContext) {
        let post = locked(txn, worker: worker) { state -> PostAction in
            guard index < state.branches.count else { return .none }
            if cancel {
                guard state.branches[index].cancelTimers.isCurrent(timer, token) else { return .none }
                cancelEvent(.timer(timer), branch: index, txn: txn, state: &state, worker: worker)
                return .none
            }
            guard state.branches[index].timers.isCurrent(timer, token) else { return .none }
            return clientEvent(.timer(timer), branch: index, response: nil, txn: txn, state: &state, worker: worker)
        }
        runPostAction(post, txn: txn, worker: worker)
    }

    /// RFC 3261 §16.7: a response passed up by branch `index`.
    func branchResponse(_ index: Int, status: Int, response: SIPMessage, txn: ProxyTransaction,
                        state: inout ProxyTransaction.State, worker: WorkerContext) -> PostAction {
        // Forwarded without our Via (``SIPMessage/serializedWithoutTopVia()``: the reply is not copied for it).
        if state.branches[index].status == 0 {
            forgetSilentBranch(state.branches[index].branchID, destination: state.branches[index].destination)
        }
        if status > state.branches[index].status || status >= 200 { state.branches[index].status = status }
        if status < 200 {
            if case .pending = state.branches[index].cancel {
                state.branches[index].cancel = .none
                cancelBranch(index, txn: txn, state: &state, worker: worker)
            }
            if status > 100 && state.finalStatus == 0 {
                sendUpstream(response.serializedWithoutTopVia(), status: status, txn: txn, state: &state, worker: worker)
            }
            return .none
        }
        state.branches[index].isDone = true
        state.branches[index].request = []
        if status < 300 {
            // Every 2xx goes upstream (RFC 3261 §16.7 step 5; RFC 6026 for retransmissions).
            sendUpstream(response.serializedWithoutTopVia(), status: status, txn: txn, state: &state, worker: worker)
            cancelOtherBranches(except: index, txn: txn, state: &state, worker: worker)
            return .none
        }
        state.branches[index].finalResponse = response.serializedWithoutTopVia()
        if Self.isFailoverCase(status: status, generatedLocally: false, receivedReply: true) {
            failOver(index, txn: txn, state: &state, worker: worker)
        }
        if status >= 600 { cancelOtherBranches(except: index, txn: txn, state: &state, worker: worker) }
        return completeIfDone(txn: txn, state: &state, worker: worker)
    }

    /// Branch `index` ended without a final response (Timer B/F: 408; transport error: 503).
    func branchFailed(_ index: Int, status: Int, txn: ProxyTransaction, state: inout ProxyTransaction.State,
                      worker: WorkerContext) -> PostAction {
        guard !state.branches[index].isDone else { return .none }
        let receivedReply = state.branches[index].status != 0
        if !receivedReply {
            forgetSilentBranch(state.branches[index].branchID, destination: state.branches[index].destination)
        }
        state.branches[index].isDone = true
        state.branches[index].request = []
        state.branches[index].status = status
        state.branches[index].finalResponse = localResponse(to: state, status: status, reason: nil)
        if Self.isFailoverCase(status: status, generatedLocally: true, receivedReply: receivedReply) {
            failOver(index, txn: txn, state: &state, worker: worker)
        }
        return completeIfDone(txn: txn, state: &state, worker: worker)
    }

    /// When every branch has an outcome and nothing final went upstream: run the failure route if one
    /// is armed, else send the best reply.
    func completeIfDone(txn: ProxyTransaction, state: inout ProxyTransaction.State,
                        worker: WorkerContext) -> PostAction {
        guard state.finalStatus == 0, !state.failureRouteRunning, !state.branches.isEmpty,
              state.pendingLookups == 0, state.allBranchesDone else { return .none }
        // As OpenSIPS, a cancelled INVITE runs its failure route too (scripts test t_was_cancelled()); a
        // t_relay there finds the transaction closed, and the 487 goes upstream when the route ends.
        if let route = state.failureRoute {
            state.failureRoute = nil
            state.failureRouteRunning = true
            return .failureRoute(route: route, status: bestBranch(state)?.status ?? 500)
        }
        forwardBest(txn: txn, state: &state, worker: worker)
        return .none
    }

    /// The flags of the branch whose final reply the failure route runs for (the first done branch with
    /// that status), as OpenSIPS restores them as the Request-URI branch's flags there.
    static func failedBranchFlags(_ state: ProxyTransaction.State, status: Int) -> UInt64 {
        state.branches.first { $0.isDone && $0.status == status }?.flags ?? 0
    }

    /// The best final reply among the branches (RFC 3261 §16.7 step 6): any 6xx, else the lowest class.
    func bestBranch(_ state: ProxyTransaction.State) -> (status: Int, bytes: [UInt8])? {
        var best: (status: Int, bytes: [UInt8])?
        for branch in state.branches where branch.isDone {
            guard let bytes = branch.finalResponse else { continue }
            let status = branch.status
            guard let current = best else { best = (status, bytes); continue }
            if current.status >= 600 { continue }
            if status >= 600 || status / 100 < current.status / 100 { best = (status, bytes) }
        }
        return best
    }

    /// Sends the best final reply upstream (487 when the INVITE was cancelled).
    func forwardBest(txn: ProxyTransaction, state: inout ProxyTransaction.State, worker: WorkerContext) {
        guard state.finalStatus == 0 else { return }
        if state.cancelled {
            if let cancelled = state.branches.first(where: { $0.status == 487 && $0.finalResponse != nil }) {
                sendUpstream(cancelled.finalResponse!, status: 487, txn: txn, state: &state, worker: worker)
            } else {
                sendUpstream(localResponse(to: state, status: 487, reason: nil), status: 487, txn: txn,
                             state: &state, worker: worker)
            }
            return
        }
        if let best = bestBranch(state) {
            sendUpstream(best.bytes, status: best.status, txn: txn, state: &state, worker: worker)
        } else {
            sendUpstream(localResponse(to: state, status: 500, reason: nil), status: 500, txn: txn,
                         state: &state, worker: worker)
        }
    }

    /// Sends a CANCEL on branch `index` (or marks it to be sent when the first provisional arrives).
    func cancelBranch(_ index: Int, txn: ProxyTransaction, state: inout ProxyTransaction.State,
                      worker: WorkerContext) {
        let branch = state.branches[index]
        guard !branch.isDone, case .invite = branch.machine, case .none = branch.cancel else { return }
        // A final reply held by async() in onreply_route ended the branch at the next hop (a 300-699 was
        // ACKed already): nothing left to cancel there.
        guard !state.suspendedReplies.contains(where: { $0.branchID == branch.branchID && $0.status >= 200 }) else {
            return
        }
        guard branch.receivedProvisional else {
            state.branches[index].cancel = .pending
            return
        }
        guard let sent = try? SIPMessage(parsing: branch.request),
              let bytes = MessageBuilders.cancel(for: sent) else { return }
        if router.runsLocalRoute, let cancel = try? SIPMessage(parsing: bytes) {
            // local_route is script code: it runs once the lock is released, and the CANCEL leaves after it.
            state.branches[index].cancel = .routing
            worker.afterUnlock { [self] in
                routeLocalCancel(cancel, branch: index, txn: txn, destination: branch.destination,
                                 socketIndex: branch.socketIndex, worker: worker)
            }
            return
        }
        sendCancel(bytes, branch: index, txn: txn, state: &state, worker: worker)
    }

    /// Starts the CANCEL client transaction of branch `index` and sends `bytes`.
    func sendCancel(_ bytes: [UInt8], branch index: Int, txn: ProxyTransaction, state: inout ProxyTransaction.State,
                    worker: WorkerContext) {
        let branch = state.branches[index]
        state.branches[index].cancel = .sent(NonInviteClientTransaction(settings: settings.timers, reliable: false),
                                             bytes: bytes)
        clientTable.set(ClientKey(branch: branch.branchID, isCancel: true), txn)
        worker.send(bytes, to: branch.destination, socketIndex: branch.socketIndex)
        cancelEvent(.start, branch: index, txn: txn, state: &state, worker: worker)
    }

    /// Runs `local_route` on the CANCEL of branch `index` with no lock held, then sends what it left
    /// (unless it dropped it, or the branch got its final reply meanwhile: nothing left to cancel).
    func routeLocalCancel(_ cancel: SIPMessage, branch index: Int, txn: ProxyTransaction, destination: SocketAddress,
                          socketIndex: Int, worker: WorkerContext) {
        let local = RequestContext(message: cancel, source: destination, socketIndex: socketIndex, worker: worker,
                                   core: self)
        let keep = router.routeLocal(local)
        let bytes = local.message.serialize()
        locked(txn, worker: worker) { state in
            guard index < state.branches.count, case .routing = state.branches[index].cancel else { return }
            guard keep, !state.branches[index].isDone else {
                state.branches[index].cancel = .none
                return
            }
            sendCancel(bytes, branch: index, txn: txn, state: &state, worker: worker)
        }
    }

    func cancelOtherBranches(except keep: Int, txn: ProxyTransaction, state: inout ProxyTransaction.State,
                             worker: WorkerContext) {
        for index in state.branches.indices where index != keep {
            cancelBranch(index, txn: txn, state: &state, worker: worker)
        }
    }

    /// Runs what had to wait for the lock to be released: failure routes, possibly several in a row.
    func runPostAction(_ first: PostAction, txn: ProxyTransaction, worker: WorkerContext) {
        var post = first
        while case let .failureRoute(route, status) = post {
            let (saved, source, socketIndex, flags, branchFlags, serial) = txn.state.withLock {
                ($0.relayedRequest ?? $0.request, $0.source, $0.socketIndex, $0.flags,
                 Self.failedBranchFlags($0, status: status), $0.serialBranches)
            }
            guard let request = saved else { return }
            let context = RequestContext(message: request, source: source, socketIndex: socketIndex, worker: worker,
                                         core: self, transaction: txn, inFailureRoute: true, failureStatus: status)
            context.flags = flags
            context.branchFlags = branchFlags
            context.serialBranches = serial
            // Suspended by async(): the failure route goes on in its resume route (routeFinished).
            if router.routeFailure(route, context) == .suspended { return }
            post = locked(txn, worker: worker) { state in
                state.failureRouteRunning = false
                if let armed = context.failureRoute, context.relayed { state.failureRoute = armed }
                if !context.relayed { state.serialBranches = context.serialBranches }
                return completeIfDone(txn: txn, state: &state, worker: worker)
            }
        }
    }
}
