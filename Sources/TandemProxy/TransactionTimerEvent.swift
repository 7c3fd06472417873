import Reactor
import SIPTransaction

/// One scheduled transaction timer (``ProxyCore/scheduleTimer(_:worker:txn:_:)``): the reactor notifies
/// it, and it feeds its target to the transaction's machine. One allocation per timer, reused for each
/// step of a long timer; the transaction and the worker are held weakly (in the object, not in closure
/// boxes: a closure capturing them weakly cost two more allocations). Used on its worker's thread only.
final class TransactionTimerEvent: ReactorTimerTarget {
    private let core: ProxyCore
    private weak var worker: WorkerContext?
    private weak var txn: ProxyTransaction?
    private let target: TransactionTimerTarget
    /// Milliseconds left until the timer's own deadline.
    private var remaining: Int64

    init(core: ProxyCore, worker: WorkerContext, txn: ProxyTransaction, target: TransactionTimerTarget,
         remaining: Int64) {
        self.core = core
        self.worker = worker
        self.txn = txn
        self.target = target
        self.remaining = remaining
    }

    /// Schedules the next step: the whole rest, or one transaction timeout when the rest is longer.
    func arm(on worker: WorkerContext) {
        let step = max(1_000, core.settings.timers.transactionTimeout)
        let delay = remaining > step ? step : max(0, remaining)
        remaining -= delay
        _ = worker.reactor.schedule(afterMilliseconds: UInt64(delay), target: self)
    }

    func reactorTimerFired() {
        guard let worker, let txn else { return }
        if remaining > 0 {
            arm(on: worker)
            return
        }
        switch target {
        case let .server(timer, token):
            core.serverTimerFired(txn, timer, token: token, worker: worker)
        case let .client(branch, cancel, timer, token):
            core.clientTimerFired(txn, branch: branch, cancel: cancel, timer, token: token, worker: worker)
        }
    }
}
