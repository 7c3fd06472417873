/// Receives a job's outcome in place of a completion closure: an object its caller keeps anyway can be
/// the job's completion too, so that starting the job allocates no closure context (issue 19: memory
/// per suspended transaction). A caller whose object lives exactly as long as the job can make it the
/// job itself instead (a ``NativeContext`` subclass, ``AsyncWorker/start(_:mode:timeoutMs:job:)``).
///
/// Called once, on the worker's loop thread, as a completion closure would be
/// (``AsyncWorker/start(_:mode:timeoutMs:handler:)``).
public protocol AsyncCompletionHandler: AnyObject {
    /// The job ended with `result` (completed, timed out, rejected or cancelled).
    func asyncJobEnded(_ result: AsyncResult)
}

/// What a job calls when it ends: a closure or a handler object.
enum AsyncJobCompletion {
    case closure((AsyncResult) -> Void)
    case handler(any AsyncCompletionHandler)

    func callAsFunction(_ result: AsyncResult) {
        switch self {
        case .closure(let body): body(result)
        case .handler(let handler): handler.asyncJobEnded(result)
        }
    }
}
