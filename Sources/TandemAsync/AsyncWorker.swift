import Reactor
import Synchronization

/// The loop-bound part of the ``AsyncEngine`` for one SIP worker: starts jobs, owns their timeout
/// timers and native contexts, and resolves each job exactly once in ``deliver(sequence:result:counters:)``.
///
/// Loop-thread only: create it for the worker's reactor and call it from that reactor's thread.
/// Completions from offload threads reach it through its ``CompletionQueue`` (which hops onto the loop
/// with `ReactorHandle.execute`).
public final class AsyncWorker {
    /// A job's record is its ``NativeContext`` (one object per job, whatever its mode: issue 19, memory
    /// per suspended transaction); an offload or failed job simply never uses the context part.
    private typealias Job = NativeContext

    /// Worker index (part of every ``AsyncJobID`` it hands out).
    public let index: UInt32
    /// The worker's reactor.
    public let reactor: Reactor
    /// Where completions are posted.
    public let completions: CompletionQueue
    private let engine: AsyncEngine
    /// The engine's backend reachability registry (for the drivers this worker creates).
    public var backends: BackendHealthRegistry { engine.backends }
    private var jobs: [UInt64: Job] = [:]
    private var nextSequence: UInt64 = 1
    private var countersCache: [String: AsyncDriverCounters] = [:]

    init(index: UInt32, engine: AsyncEngine, reactor: Reactor) {
        self.index = index
        self.engine = engine
        self.reactor = reactor
        self.completions = CompletionQueue(handle: reactor.handle)
        completions.target = self
    }

    /// Jobs started and not yet resolved.
    public var activeJobCount: Int { jobs.count }

    /// Whether `id` is still waiting for its outcome.
    public func isActive(_ id: AsyncJobID) -> Bool { id.worker == index && jobs[id.sequence] != nil }

    /// Starts `operation` and returns at once. `completion` runs exactly once, on this loop thread and
    /// never inside this call: with the driver's result, with rc -3 after `timeoutMs` (nil or 0: no
    /// per-call limit; `async_timeout` bounds every job), with rc -4 if the offload queue is full, or
    /// with rc -1 (`isCancelled`) inside ``cancel(_:)``.
    /// - Parameters:
    ///   - mode: overrides the configured mode of the driver (falls back if the path is missing).
    @discardableResult
    public func start(_ operation: any AsyncOperation, mode: AsyncMode? = nil, timeoutMs: UInt64? = nil,
                      completion: @escaping (AsyncResult) -> Void) -> AsyncJobID {
        start(operation, mode: mode, timeoutMs: timeoutMs, job: { CompletionJob($0, completion: .closure(completion)) }).jobID
    }

    /// ``start(_:mode:timeoutMs:completion:)`` with `handler` in place of the closure: its
    /// ``AsyncCompletionHandler/asyncJobEnded(_:)`` runs exactly once, as the closure would.
    @discardableResult
    public func start(_ operation: any AsyncOperation, mode: AsyncMode? = nil, timeoutMs: UInt64? = nil,
                      handler: any AsyncCompletionHandler) -> AsyncJobID {
        start(operation, mode: mode, timeoutMs: timeoutMs, job: { CompletionJob($0, completion: .handler(handler)) }).jobID
    }

    /// ``start(_:mode:timeoutMs:completion:)`` with a job of the caller's own: `job` makes it from the
    /// worker's seed (a ``NativeContext`` subclass whose ``NativeContext/jobEnded(_:)`` is the
    /// completion), before the operation starts. Returns it; its ``NativeContext/jobID`` is the job's.
    @discardableResult
    public func start<Job: NativeContext>(_ operation: any AsyncOperation, mode: AsyncMode? = nil,
                                          timeoutMs: UInt64? = nil,
                                          job makeJob: (NativeContext.Seed) -> Job) -> Job {
        let job = makeJob(seed(for: operation))
        start(operation, mode: mode, timeoutMs: timeoutMs, as: job)
        return job
    }

    /// The seed of a new job running `operation`: its id (the next sequence number) and the worker's
    /// values; counted as started.
    private func seed(for operation: any AsyncOperation) -> NativeContext.Seed {
        let sequence = nextSequence
        nextSequence += 1
        let counters = driverCounters(operation.driver)
        counters.started.add(1, ordering: .relaxed)
        counters.inFlight.add(1, ordering: .relaxed)
        return NativeContext.Seed(jobID: AsyncJobID(worker: index, sequence: sequence), reactor: reactor,
                                  queue: completions, counters: counters, startedAt: reactor.now)
    }

    /// Runs `operation` as `job` (made from ``seed(for:)``): its outcome is delivered to the job.
    private func start(_ operation: any AsyncOperation, mode: AsyncMode?, timeoutMs: UInt64?, as job: Job) {
        let sequence = job.sequence
        let driver = operation.driver
        let counters = job.counters
        jobs[sequence] = job
        let timeout = effectiveTimeout(requestedMs: timeoutMs)

        guard let resolved = engine.resolveMode(mode, driver: driver, supported: operation.supportedPaths) else {
            completions.post(sequence: sequence, result: .failure, counters: counters)
            return
        }
        switch resolved {
        case .native:
            job.runsNative = true
            if operation.needsCancel { job.operation = operation }
            // An operation that completes by itself before the timeout (a sleep shorter than it) needs no
            // timeout timer: its own timer fires first, at an earlier deadline.
            if !Self.completesBefore(operation, timeoutMs: timeout) { armTimeout(job, timeoutMs: timeout) }
            operation.start(job)
        case .offload:
            guard let body = operation.makeBlocking(timeoutMs: timeout) else {
                completions.post(sequence: sequence, result: .failure, counters: counters)
                return
            }
            let queue = completions
            let ticket = engine.pool.submit(driver: driver, counters: counters, body: body) { result in
                var result = result
                result.status = .completed
                queue.post(sequence: sequence, result: result, counters: counters)
            }
            if let ticket {
                job.ticket = ticket
                armTimeout(job, timeoutMs: timeout)
            } else {
                completions.post(sequence: sequence, result: .rejected, counters: counters)
            }
        case .sync:
            guard let body = operation.makeBlocking(timeoutMs: timeout) else {
                completions.post(sequence: sequence, result: .failure, counters: counters)
                return
            }
            completions.post(sequence: sequence, result: runBlocking(body, timeoutMs: timeout), counters: counters)
        }
    }

    /// The timeout a call gets: `requestedMs` (a per-call limit; nil or 0 = none) bounded by
    /// `async_timeout`, which always applies.
    public func effectiveTimeout(requestedMs: UInt64?) -> UInt64 {
        guard let requestedMs, requestedMs > 0 else { return engine.configuration.defaultTimeoutMs }
        return min(requestedMs, engine.configuration.defaultTimeoutMs)
    }

    /// Runs `operation`'s blocking form on this thread (a function called outside `async()`/`launch()`,
    /// as OpenSIPS runs it: the worker waits). Bounded by ``effectiveTimeout(requestedMs:)``; a body
    /// that returns after it gives rc -3. Counted like any other job of the driver.
    public func runSynchronously(_ operation: any AsyncOperation, timeoutMs: UInt64? = nil) -> AsyncResult {
        let counters = driverCounters(operation.driver)
        let timeout = effectiveTimeout(requestedMs: timeoutMs)
        counters.started.add(1, ordering: .relaxed)
        guard let body = operation.makeBlocking(timeoutMs: timeout) else {
            counters.completed.add(1, ordering: .relaxed)
            return .failure
        }
        counters.inFlight.add(1, ordering: .relaxed)
        let startedAt = reactor.now
        let result = runBlocking(body, timeoutMs: timeout)
        counters.inFlight.subtract(1, ordering: .relaxed)
        if result.status == .timedOut {
            counters.timedOut.add(1, ordering: .relaxed)
        } else {
            counters.completed.add(1, ordering: .relaxed)
            counters.recordLatency(nanoseconds: startedAt.nanoseconds(until: reactor.now))
        }
        return result
    }

    /// Runs a blocking body inline; a result that comes after `timeoutMs` is a timeout (rc -3).
    private func runBlocking(_ body: @Sendable () -> AsyncResult, timeoutMs: UInt64) -> AsyncResult {
        let startedAt = reactor.now
        var result = body()
        if result.status == .timedOut || startedAt.nanoseconds(until: reactor.now) / 1_000_000 >= timeoutMs {
            return .timedOut
        }
        result.status = .completed
        return result
    }

    /// Cancels a job (e.g. CANCEL of the suspended transaction): the driver is cancelled and the job's
    /// completion runs *before this returns* with rc -1 and `isCancelled`. `false` if the job is unknown
    /// or already resolved.
    @discardableResult
    public func cancel(_ id: AsyncJobID) -> Bool {
        guard id.worker == index, let job = jobs[id.sequence] else { return false }
        deliver(sequence: id.sequence, result: .cancelled, counters: job.counters)
        return true
    }

    /// Cancels every active job (worker shutdown).
    public func cancelAll() {
        for sequence in jobs.keys.sorted() {
            if let job = jobs[sequence] { deliver(sequence: sequence, result: .cancelled, counters: job.counters) }
        }
    }

    /// The single place where a job is resolved: the first outcome for a job wins, any later one is
    /// dropped and counted in `lateDropped`. Loop thread only.
    func deliver(sequence: UInt64, result: AsyncResult, counters: AsyncDriverCounters) {
        guard let job = jobs.removeValue(forKey: sequence) else {
            counters.lateDropped.add(1, ordering: .relaxed)
            return
        }
        if let timer = job.timeoutTimer { reactor.cancel(timer) }
        let failed = result.status != .completed
        if job.runsNative {
            job.runsNative = false
            let operation = job.operation
            job.operation = nil  // the operation may hold its context: no cycle
            job.releaseAll()
            if failed { operation?.cancel() }
        }
        if failed, let ticket = job.ticket, ticket.abandon() {
            job.counters.queued.subtract(1, ordering: .relaxed)  // it never runs
        }
        job.counters.inFlight.subtract(1, ordering: .relaxed)
        switch result.status {
        case .completed:
            job.counters.completed.add(1, ordering: .relaxed)
            job.counters.recordLatency(nanoseconds: job.startedAt.nanoseconds(until: reactor.now))
        case .timedOut: job.counters.timedOut.add(1, ordering: .relaxed)
        case .cancelled: job.counters.cancelled.add(1, ordering: .relaxed)
        case .rejected: job.counters.rejected.add(1, ordering: .relaxed)
        }
        job.jobEnded(result)
    }

    /// Whether `operation`'s native form completes by itself strictly before `timeoutMs`.
    static func completesBefore(_ operation: any AsyncOperation, timeoutMs: UInt64) -> Bool {
        guard let delay = operation.nativeCompletionDelayMicroseconds else { return false }
        let (limit, overflow) = timeoutMs.multipliedReportingOverflow(by: 1000)
        return overflow || delay < limit
    }

    private func armTimeout(_ job: Job, timeoutMs: UInt64) {
        let sequence = job.sequence
        let counters = job.counters
        job.timeoutTimer = reactor.schedule(afterMilliseconds: timeoutMs) { [weak self] in
            guard let self, let job = self.jobs[sequence] else { return }
            job.timeoutTimer = nil
            self.deliver(sequence: sequence, result: .timedOut, counters: counters)
        }
    }

    private func driverCounters(_ driver: String) -> AsyncDriverCounters {
        if let cached = countersCache[driver] { return cached }
        let counters = engine.counters.counters(for: driver)
        countersCache[driver] = counters
        return counters
    }
}
