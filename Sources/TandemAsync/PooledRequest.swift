/// The bookkeeping of a native operation that hands its work to a per-worker connection pool which
/// answers through a callback and can abandon a request by id (the PostgreSQL and LDAP drivers).
///
/// Loop-thread only, like the operation that owns it.
public final class PooledRequest {
    private var id: UInt64?
    private var finished = false

    public init() {}

    /// Submits through `submit` (which returns the pool's request id, or nil when the pool's queue is
    /// full) and completes `context` with the pool's answer, or at once with rc -4 naming `driver`, with
    /// `queueFullReason` as the `error` output when given (the pool's state: how many wait, how many
    /// connections are busy).
    public func start(_ context: NativeContext, driver: String, queueFullReason: (() -> String)? = nil,
                      submit: (@escaping (AsyncResult) -> Void) -> UInt64?) {
        let submitted = submit { [weak self] result in
            self?.finished = true
            self?.id = nil
            context.complete(result)
        }
        if let submitted {
            if !finished { id = submitted }
        } else {
            finished = true
            context.complete(AsyncResult.rejected(reason: queueFullReason?() ?? "\(driver) pool queue is full"))
        }
    }

    /// Abandons the request at its pool if it is still pending (timeout or CANCEL); idempotent.
    public func cancel(abandon: (UInt64) -> Void) {
        guard !finished, let pending = id else { return }
        finished = true
        id = nil
        abandon(pending)
    }
}
