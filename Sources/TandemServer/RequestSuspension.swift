import Logging
import Reactor
import SIPCore
import TandemAsync
import TandemProxy
import TandemScript

/// A request waiting in `async()` with a transaction: its async job, the suspended request the
/// transaction keeps, and its cancel hook in one object, where they were a job, a record and two
/// closures (issue 19: memory per suspended transaction). The transaction holds it until the request
/// resumes; the async worker holds it as the job until the job ends.
///
/// `@unchecked Sendable`: ``cancelSuspendedOperation()``, the only member called off the owning worker's
/// loop thread, reads `owner` and the job's ``NativeContext/jobID``, both immutable; the transaction
/// reads ``suspendedRequest`` (immutable) under its lock. Everything else (the ``NativeContext`` part)
/// is used on the owning worker's loop thread only.
final class RequestSuspension: NativeContext, SuspendedRequestRecord, SuspensionCanceller, @unchecked Sendable {
    let suspendedRequest: SuspendedRequestState
    private let router: ScriptRouter
    private let transaction: ProxyTransaction
    private let worker: WorkerContext
    private let core: ProxyCore
    private let request: AsyncRequest
    /// The async worker running the job (for a CANCEL arriving on another worker) and the worker's
    /// services (for the resume route).
    private let owner: AsyncWorkerRef

    /// The job `seed` of `owner`'s worker, keeping the request of `context` as it is now.
    init(_ seed: Seed, router: ScriptRouter, transaction: ProxyTransaction, context: RequestContext,
         request: AsyncRequest, owner: AsyncWorkerRef) {
        self.suspendedRequest = SuspendedRequestState(context)
        self.router = router
        self.transaction = transaction
        self.worker = context.worker
        self.core = context.core
        self.request = request
        self.owner = owner
        super.init(seed)
    }

    /// The job ended: the resume route runs on the request as the script left it, unless it is no
    /// longer suspended.
    override func jobEnded(_ result: AsyncResult) {
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
        let job = jobID
        _ = owner.worker.reactor.handle.execute { owner.worker.cancel(job) }
    }
}
