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
/// loop thread, reads `owner` (Sendable) and `job`, which is written once on the loop thread before the
/// object is registered as the hook under the transaction's lock (the canceller takes the hook under
/// that lock). Everything else it adds to its ``SuspendedRequestRecord`` is used on the owning worker's
/// loop thread only.
final class RequestSuspension: SuspendedRequestRecord, AsyncCompletionHandler, SuspensionCanceller,
    @unchecked Sendable {
    private let router: ScriptRouter
    private let transaction: ProxyTransaction
    private let worker: WorkerContext
    private let core: ProxyCore
    private let services: WorkerServices
    private let request: AsyncRequest
    /// The async worker running the job, for a CANCEL arriving on another worker.
    private let owner: AsyncWorkerRef
    /// The job, once started.
    var job = AsyncJobID(worker: 0, sequence: 0)

    init(router: ScriptRouter, transaction: ProxyTransaction, context: RequestContext, services: WorkerServices,
         request: AsyncRequest, owner: AsyncWorkerRef) {
        self.router = router
        self.transaction = transaction
        self.worker = context.worker
        self.core = context.core
        self.services = services
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
                      services: services)
    }

    /// A CANCEL arrived: the job is cancelled on its own worker (its end then runs there, `$rc` = -1).
    func cancelSuspendedOperation() {
        let owner = owner
        let job = job
        _ = owner.worker.reactor.handle.execute { owner.worker.cancel(job) }
    }
}
