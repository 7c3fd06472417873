/// One async function call (a `sleep`, an `exec`, a query ...): one interface, two execution paths.
///
/// - **native**: ``start(_:)`` runs on the worker's loop thread. The driver registers descriptors and
///   timers *through the context* (so the engine can release them), and calls
///   ``NativeContext/complete(_:)`` exactly once. Before completing it releases its own resources
///   (closes fds, reaps children). ``cancel()`` is called on the loop thread on timeout or explicit
///   cancel, *after* the context has deregistered the driver's fds and cancelled its timers; it must
///   close descriptors, kill children and free everything. It may also be called after the driver
///   completed (a timeout racing the completion) and must then do nothing.
/// - **blocking**: ``makeBlocking(timeoutMs:)`` returns a `@Sendable` closure, run on the
///   ``OffloadPool`` (`offload` mode) or inline (`sync` mode). It should honour `timeoutMs` where it can
///   (an offload slot stays busy until the closure returns).
///
/// Instances are created and used on one worker thread; they are not `Sendable`.
public protocol AsyncOperation: AnyObject {
    /// Driver name: the key for modes, offload limits and counters (e.g. `"sleep"`, `"exec"`).
    var driver: String { get }
    /// The paths this driver implements.
    var supportedPaths: AsyncPaths { get }
    /// Starts the native form (loop thread).
    func start(_ context: NativeContext)
    /// Releases everything the native form holds (loop thread; idempotent).
    func cancel()
    /// The blocking form, or `nil` if the driver has none.
    func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)?
    /// For a native form that completes by itself after a fixed delay whatever happens (a `sleep`: one
    /// timer, no I/O): that delay in microseconds; `nil` (the default) for everything else. A job whose
    /// delay is shorter than its timeout ends first by construction, so the engine arms no timeout timer
    /// for it (one reactor timer and closure less per suspended call, issue 19).
    var nativeCompletionDelayMicroseconds: UInt64? { get }
    /// False for a native form that holds nothing of its own once started (a `sleep`: its one timer
    /// went through the context, which the engine releases): the engine then keeps no reference to the
    /// operation while the job runs, and never calls ``cancel()`` (issue 19: memory per suspended
    /// transaction). True (the default) for everything else.
    var needsCancel: Bool { get }
}

extension AsyncOperation {
    public func start(_ context: NativeContext) { context.complete(.failure) }
    public func cancel() {}
    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? { nil }
    public var nativeCompletionDelayMicroseconds: UInt64? { nil }
    public var needsCancel: Bool { true }
}
