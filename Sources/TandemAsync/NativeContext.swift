import Glibc
import Reactor

/// What a native driver sees while it runs: its worker's reactor (through tracking wrappers) and the
/// ``complete(_:)`` call. Everything registered or scheduled through the context is released by the
/// engine when the job ends (completion, timeout or cancel), so a driver cannot leak reactor state.
///
/// It is also the job's record in its ``AsyncWorker`` (completion, start time, timeout timer, offload
/// ticket), so that a job is one object (issue 19: memory per suspended transaction). A caller that
/// keeps a record of its own while the job runs (the router's suspended request) can make that record
/// the job: it subclasses the context, overrides ``jobEnded(_:)`` and starts the job with
/// ``AsyncWorker/start(_:mode:timeoutMs:job:)``, so that the job and the record are one allocation.
///
/// Loop-thread only (not `Sendable`); a subclass that is used off the loop thread states its own
/// invariant (the context's `let` properties, ``jobID`` among them, never change).
open class NativeContext {
    /// What the worker gives a job it starts, for the job's initializer
    /// (``AsyncWorker/start(_:mode:timeoutMs:job:)``); made by the worker only.
    public struct Seed {
        let jobID: AsyncJobID
        let reactor: Reactor
        let queue: CompletionQueue
        let counters: AsyncDriverCounters
        let startedAt: Deadline
    }

    /// The job this context belongs to.
    public var jobID: AsyncJobID { AsyncJobID(worker: workerIndex, sequence: sequence) }
    /// The job's sequence number on its worker (``jobID`` is kept as its two parts, the worker index
    /// in padding further down: the object stays within one malloc size class).
    let sequence: UInt64
    /// The worker's reactor. Use it directly only for work that must outlive the job (e.g. reaping a
    /// killed child after ``AsyncOperation/cancel()``); such work is not released by the engine.
    public let reactor: Reactor
    private let queue: CompletionQueue
    let counters: AsyncDriverCounters
    private var registrations: Set<RegistrationID> = []
    private var moreTimers: [TimerID] = []

    // The job record, for ``AsyncWorker`` only.
    let startedAt: Deadline
    /// The offload pool's ticket (offload jobs).
    var ticket: OffloadTicket?
    /// The native operation while it runs (nil for other paths, for an operation that needs no
    /// ``AsyncOperation/cancel()``, and once the job ended).
    var operation: (any AsyncOperation)?
    /// Started on the native path and not ended yet: its registrations and timers are released when
    /// it ends.
    var runsNative = false

    // Declared last, the two optional timers after the flags and the 32-bit index (stored properties are
    // laid out in declaration order): 133 bytes, where a subclass's own properties begin at 136.
    private var completed = false
    private var released = false
    private let workerIndex: UInt32
    /// Timers scheduled through the context, cancelled when the job ends. Most jobs have one (a
    /// sleep, a driver's deadline): it is kept inline, further ones in `moreTimers`; fired ones are
    /// pruned as new ones come (cancelling a fired timer is a no-op), so a job that keeps re-arming
    /// timers keeps only the live ones. No allocation for the common single timer (issue 19: memory
    /// per suspended transaction).
    private var firstTimer: TimerID?
    /// The engine's timeout timer (`async_timeout` or the call's own), if armed.
    var timeoutTimer: TimerID?

    /// A job made by `seed`'s worker: a subclass overrides ``jobEnded(_:)``.
    public init(_ seed: Seed) {
        self.sequence = seed.jobID.sequence
        self.workerIndex = seed.jobID.worker
        self.reactor = seed.reactor
        self.queue = seed.queue
        self.counters = seed.counters
        self.startedAt = seed.startedAt
    }

    /// The job ended with `result` (completed, timed out, rejected or cancelled): called once by the
    /// ``AsyncWorker``, on its loop thread, never inside ``AsyncWorker/start(_:mode:timeoutMs:job:)``,
    /// after the job's registrations and timers were released. Every job is a subclass that overrides
    /// it (the caller's own record, or ``CompletionJob`` for a completion closure or handler); this one
    /// does nothing.
    open func jobEnded(_ result: AsyncResult) {}

    /// Whether ``complete(_:)`` was called or the job was ended by the engine.
    public var isFinished: Bool { completed || released }

    /// The reactor's current time.
    public var now: Deadline { reactor.now }

    /// Watches `fd` for the job; released automatically when the job ends.
    public func register(fd: Int32, interest: Interest, callback: @escaping Reactor.Callback) throws(IOError) -> RegistrationID {
        if released { throw IOError(errno: ECANCELED, function: "NativeContext.register") }
        let id = try reactor.register(fd: fd, interest: interest, callback: callback)
        registrations.insert(id)
        return id
    }

    /// Changes a registration's interest.
    public func modify(_ id: RegistrationID, interest: Interest) throws(IOError) {
        try reactor.modify(id, interest: interest)
    }

    /// Stops watching a descriptor (call before closing it). Idempotent.
    @discardableResult
    public func deregister(_ id: RegistrationID) -> Bool {
        registrations.remove(id)
        return reactor.deregister(id)
    }

    /// Runs `callback` after `delay` unless the job ended first.
    @discardableResult
    public func schedule(after delay: Duration, _ callback: @escaping () -> Void) -> TimerID {
        // The callback goes to the reactor as it is (no wrapper closure, no weak reference): a fired
        // timer stays in the list until pruned, and cancelling it then does nothing.
        let timer = reactor.schedule(after: delay, callback)
        if released {
            reactor.cancel(timer)
        } else if let first = firstTimer, reactor.isPending(first) {
            if !moreTimers.isEmpty { moreTimers.removeAll { !reactor.isPending($0) } }
            moreTimers.append(timer)
        } else {
            firstTimer = timer
        }
        return timer
    }

    /// Runs `callback` after `milliseconds` unless the job ended first.
    @discardableResult
    public func schedule(afterMilliseconds milliseconds: UInt64, _ callback: @escaping () -> Void) -> TimerID {
        schedule(after: .milliseconds(Int64(clamping: milliseconds)), callback)
    }

    /// Cancels a timer scheduled through the context.
    @discardableResult
    public func cancelTimer(_ id: TimerID) -> Bool {
        if firstTimer == id { firstTimer = nil } else { moreTimers.removeAll { $0 == id } }
        return reactor.cancel(id)
    }

    /// Reports the result. The first call counts; later calls are ignored. The result is posted to the
    /// worker's ``CompletionQueue`` (delivered in a later loop step, never inside this call). If the
    /// job already timed out or was cancelled, the completion is dropped and counted as late.
    public func complete(_ result: AsyncResult) {
        if completed { return }
        completed = true
        var result = result
        // A driver may refuse the job (its queue is full): counted as rejected, not completed.
        if result.status != .rejected { result.status = .completed }
        queue.post(sequence: sequence, result: result, counters: counters)
    }

    /// Deregisters every descriptor and cancels every timer still held (engine, loop thread).
    func releaseAll() {
        released = true
        for id in registrations { reactor.deregister(id) }
        registrations.removeAll()
        if let firstTimer { reactor.cancel(firstTimer) }
        firstTimer = nil
        for id in moreTimers { reactor.cancel(id) }
        moreTimers.removeAll()
    }

    /// Live registrations held by the job (tests/diagnostics).
    var registrationCount: Int { registrations.count }
}

/// A job started with a completion closure or handler (``AsyncWorker/start(_:mode:timeoutMs:completion:)``,
/// ``AsyncWorker/start(_:mode:timeoutMs:handler:)``): ``jobEnded(_:)`` runs it.
final class CompletionJob: NativeContext {
    /// Runs once with the outcome; cleared when it ran.
    private var completion: AsyncJobCompletion?

    init(_ seed: Seed, completion: AsyncJobCompletion) {
        self.completion = completion
        super.init(seed)
    }

    override func jobEnded(_ result: AsyncResult) {
        let completion = completion
        self.completion = nil  // a driver may keep its context: it must not keep the caller's state
        completion?(result)
    }
}
