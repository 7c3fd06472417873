import Logging
import Reactor
import SIPCore
import TandemAsync
import TandemProxy
import TandemScript

/// A request waiting in `async()` with a transaction: the suspended request the transaction keeps, the
/// completion of its job and its cancel hook in one object, where they were a value in the transaction
/// and two closures (issue 19: memory per suspended transaction). The transaction holds it until the
/// request resumes; the job holds it until it ends.
///
/// `@unchecked Sendable`: ``cancelSuspendedOperation()``, the only member called off the owning worker's
/// loop thread, reads `owner` (Sendable) and `jobSequence`, which is written once on the loop thread
/// before the object is registered as the hook under the transaction's lock (the canceller takes the
/// hook under that lock). Everything else it adds to its ``SuspendedRequestRecord`` is used on the owning worker's
/// loop thread only.
final class RequestSuspension: SuspendedRequestRecord, AsyncCompletionHandler, SuspensionCanceller,
    @unchecked Sendable {
    private let router: ScriptRouter
    private let transaction: ProxyTransaction
    private let worker: WorkerContext
    private let core: ProxyCore
    private let request: AsyncRequest
    /// The async worker running the job (for a CANCEL arriving on another worker) and the worker's
    /// services (for the resume route).
    private let owner: AsyncWorkerRef
    /// The job's sequence number on `owner`'s worker, once started (the job's worker index is that
    /// worker's: not kept, 8 bytes less in each suspension; issue 19).
    private var jobSequence: UInt64 = 0

    /// The job, once started (``ScriptRouter`` starts it on `owner`'s worker).
    var job: AsyncJobID {
        get { AsyncJobID(worker: owner.worker.index, sequence: jobSequence) }
        set {
            precondition(newValue.worker == owner.worker.index, "async job started on another worker")
            jobSequence = newValue.sequence
        }
    }

    init(router: ScriptRouter, transaction: ProxyTransaction, context: RequestContext, request: AsyncRequest,
         owner: AsyncWorkerRef) {
        self.router = router
        self.transaction = transaction
        self.worker = context.worker
        self.core = context.core
        self.request = request
        self.owner = owner
        super.init(context)
    }

    /// The job ended: the resume route runs on the request as the script left it, unless it is no
    /// longer suspended.
    func asyncJobEnded(_ result: AsyncResult) {
        transaction.setCancelHook(nil)
        guard let context = core.resume(transaction, worker: worker) else {
            router.logger.debug("async(): transaction no longer suspended; resume route skipped", metadata: [
                LogMetadataKey.branch: .string(transaction.key.branch),
                LogMetadataKey.route: .string(router.routeLabel(request.resumeRoute)),
            ])
            return
        }
        router.resume(context, avps: transaction.scriptState as? AVPStore, request: request, result: result,
                      services: owner.services)
    }

    /// A CANCEL arrived: the job is cancelled on its own worker (its end then runs there, `$rc` = -1).
    func cancelSuspendedOperation() {
        let owner = owner
        let job = job
        _ = owner.worker.reactor.handle.execute { owner.worker.cancel(job) }
    }
}
