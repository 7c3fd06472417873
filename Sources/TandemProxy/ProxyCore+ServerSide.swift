import Logging
import Synchronization
import Reactor
import SIPCore
import SIPTransaction

extension ProxyCore {
    /// Feeds an event to the server transaction and carries out its effects. `response` holds the
    /// bytes to send when the event is a TU response.
    func serverEvent(_ event: ServerEvent, response: [UInt8]?, txn: ProxyTransaction,
                     state: inout ProxyTransaction.State, worker: WorkerContext) {
        var ignored = false
        serverEvent(event, response: response, txn: txn, state: &state, worker: worker, passAck: &ignored)
    }

    func serverEvent(_ event: ServerEvent, response: [UInt8]?, txn: ProxyTransaction,
                     state: inout ProxyTransaction.State, worker: WorkerContext, passAck: inout Bool) {
        var effects = TransactionActions<ServerEffect>()
        state.server.handle(event) { effects.append($0) }
        for effect in effects {
            switch effect {
            case .sendTrying:
                let trying = localResponse(to: state, status: 100, reason: nil)
                // Not kept: a retransmission of the request rebuilds it from the request (the same
                // bytes), so a transaction waiting for its final reply (or suspended) holds no copy.
                state.lastResponse = nil
                state.lastResponseIsTrying = true
                counters.countReplySent(100)
                worker.send(trying, to: replyAddress(state), socketIndex: state.socketIndex)
            case .sendResponse:
                guard let response else { continue }
                state.lastResponse = response
                state.lastResponseIsTrying = false
                // Held until the lock is released (``locked(_:worker:_:)``); a failure counts in sendErrors.
                worker.send(response, to: replyAddress(state), socketIndex: state.socketIndex)
                if case .response(let status) = event { counters.countReplySent(status) }
                if case .response(let status) = event, status >= 200, state.finalStatus == 0 {
                    state.finalStatus = status
                    settleAwaitingFinal(&state)
                    state.compactAfterFinal(isInvite: txn.isInvite)
                }
            case .retransmitResponse:
                if let last = state.lastResponse {
                    worker.send(last, to: replyAddress(state), socketIndex: state.socketIndex)
                } else if state.lastResponseIsTrying, let request = state.request {
                    let trying = SIPMessage.makeResponse(to: request, status: 100, reason: nil, toTag: nil,
                                                         extraHeaders: tryingExtraHeaders)
                    worker.send(trying, to: replyAddress(state), socketIndex: state.socketIndex)
                }
            case let .startTimer(timer, ms):
                let token = state.serverTimers.restart(timer)
                scheduleTimer(ms, worker: worker, txn: txn, .server(timer, token: token))
            case .cancelTimers(let set):
                state.serverTimers.cancel(set)
            case .passAck:
                passAck = true
            case .timeout, .transportError:
                break
            case .terminated:
                state.serverTerminated = true
                // Nobody waits for a reply still held by an async() of an onreply_route any more.
                runAfterUnlock(takeCancelHooks(&state), worker: worker)
                settleAwaitingFinal(&state)
                serverTable.remove(txn.key)
                // Free what only the server side needed.
                state.lastResponse = nil
                state.lastResponseIsTrying = false
            }
        }
    }

    /// The transaction no longer waits for a final reply (it sent one, or it ended): it leaves
    /// `awaitingFinalNow`, once.
    func settleAwaitingFinal(_ state: inout ProxyTransaction.State) {
        guard state.awaitingFinal else { return }
        state.awaitingFinal = false
        counters.awaitingFinalNow.add(-1, ordering: .relaxed)
    }

    /// Sends a response upstream through the server transaction (it becomes the last response).
    func sendUpstream(_ bytes: [UInt8], status: Int, txn: ProxyTransaction, state: inout ProxyTransaction.State,
                      worker: WorkerContext) {
        serverEvent(.response(status: status), response: bytes, txn: txn, state: &state, worker: worker)
    }

    func serverTimerFired(_ txn: ProxyTransaction, _ timer: TransactionTimer, token: UInt32, worker: WorkerContext) {
        locked(txn, worker: worker) { state in
            guard state.serverTimers.isCurrent(timer, token) else { return }
            serverEvent(.timer(timer), response: nil, txn: txn, state: &state, worker: worker)
        }
    }

    /// Schedules `target` of `txn` on the worker's reactor after `milliseconds`: one object per timer
    /// (a ``TransactionTimerEvent``), holding the transaction and the worker weakly (a timer keeps
    /// neither alive).
    ///
    /// A timer longer than the transaction timeout (64·T1; Timer C is 180 s) is scheduled in steps of that
    /// length and dropped at the first step after its transaction is gone. Reactor timers are not
    /// cancelled (a transaction ends on whichever worker), so without steps every INVITE branch left a
    /// 180 s timer entry behind, which after a flood pinned the freed memory around it for minutes.
    func scheduleTimer(_ milliseconds: Int64, worker: WorkerContext, txn: ProxyTransaction,
                       _ target: TransactionTimerTarget) {
        let event = TransactionTimerEvent(core: self, worker: worker, txn: txn, target: target,
                                          remaining: milliseconds)
        event.arm(on: worker)
    }
}
