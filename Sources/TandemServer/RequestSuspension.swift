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
/// loop thread, reads `owner` (its sendable `async` handle) and the job's ``NativeContext/jobID``, both immutable; the transaction
/// reads ``suspendedRequest`` (immutable) under its lock. Everything else (the ``NativeContext`` part)
/// is used on the owning worker's loop thread only.
final class RequestSuspension: NativeContext, SuspendedRequestRecord, SuspensionCanceller, @unchecked Sendable {
    let suspendedRequest: SuspendedRequestState
    private let transaction: ProxyTransaction
    /// The worker's async worker (for a CANCEL arriving on another worker), the router, services, loop
    /// context and proxy core (for the resume route): one reference shared by the worker's suspensions.
    private let owner: SuspensionOwner
    /// Last: its tail padding is the object's end.
    private let request: KeptAsyncRequest

    /// The job `seed` of `owner`'s worker, keeping the request of `context` as it is now.
    init(_ seed: Seed, transaction: ProxyTransaction, context: RequestContext, request: KeptAsyncRequest,
         owner: SuspensionOwner) {
        self.suspendedRequest = SuspendedRequestState(context)
        self.transaction = transaction
        self.owner = owner
        self.request = request
        super.init(seed)
    }

    /// The job ended: the resume route runs on the request as the script left it, unless it is no
    /// longer suspended.
    override func jobEnded(_ result: AsyncResult) {
        transaction.setCancelHook(nil)
        guard let context = owner.core.resume(transaction, worker: owner.worker) else {
            owner.router.logger.debug("async(): transaction no longer suspended; resume route skipped", metadata: [
                LogMetadataKey.branch: .string(transaction.key.branch),
                LogMetadataKey.route: .string(owner.router.routeLabel(request.resumeRoute)),
            ])
            return
        }
        owner.router.resume(context, avps: transaction.scriptState as? AVPStore, request: request, result: result,
                      services: owner.async.services)
    }

    /// A CANCEL arrived: the job is cancelled on its own worker (its end then runs there, `$rc` = -1).
    func cancelSuspendedOperation() {
        let owner = owner.async
        let job = jobID
        _ = owner.worker.reactor.handle.execute { owner.worker.cancel(job) }
    }
}
