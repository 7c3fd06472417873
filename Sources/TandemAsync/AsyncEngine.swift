import Reactor
import Synchronization

/// The process-wide async engine behind `async()` and `launch()`: configuration, the ``OffloadPool``
/// and the per-driver counters. Each SIP worker gets its loop-bound part with ``makeWorker(reactor:)``
/// and starts jobs through it (or through ``start(_:mode:timeoutMs:on:completion:)``).
public final class AsyncEngine: Sendable {
    /// The settings.
    public let configuration: AsyncEngineConfiguration
    /// The pool running blocking forms.
    public let pool: OffloadPool
    /// Per-driver counters.
    public let counters: AsyncCounters
    /// Reachability of the backends the drivers talk to (loss/recovery, counted and logged once).
    public let backends = BackendHealthRegistry()
    private let nextWorker = Atomic<UInt32>(0)

    /// Creates the engine (no thread is started until an offload job arrives).
    /// - Parameter latencyRecorders: makes, per driver, a hook that also receives each completed
    ///   job's latency (metrics histograms); `nil` keeps only the built-in buckets.
    public init(configuration: AsyncEngineConfiguration = AsyncEngineConfiguration(),
                latencyRecorders: AsyncLatencyRecorderFactory? = nil) {
        self.configuration = configuration
        self.counters = AsyncCounters(latencyRecorders: latencyRecorders)
        self.pool = OffloadPool(configuration: configuration.offload)
    }

    /// Creates the async part of one worker. Call on (or before starting) the worker's loop thread.
    public func makeWorker(reactor: Reactor) -> AsyncWorker {
        let index = nextWorker.add(1, ordering: .relaxed).oldValue
        return AsyncWorker(index: index, engine: self, reactor: reactor)
    }

    /// Starts `operation` for a job owned by `worker` (loop thread of `worker`). See
    /// ``AsyncWorker/start(_:mode:timeoutMs:completion:)``.
    @discardableResult
    public func start(_ operation: any AsyncOperation, mode: AsyncMode? = nil, timeoutMs: UInt64? = nil,
                      on worker: AsyncWorker, completion: @escaping (AsyncResult) -> Void) -> AsyncJobID {
        worker.start(operation, mode: mode, timeoutMs: timeoutMs, completion: completion)
    }

    /// Cancels a job of `worker` (loop thread of `worker`). See ``AsyncWorker/cancel(_:)``.
    @discardableResult
    public func cancel(_ id: AsyncJobID, on worker: AsyncWorker) -> Bool {
        worker.cancel(id)
    }

    /// The mode a driver runs in, given what the operation supports: the requested or configured mode
    /// if its path is implemented, else native, else offload. `nil` if the driver implements nothing.
    public func resolveMode(_ requested: AsyncMode?, driver: String, supported: AsyncPaths) -> AsyncMode? {
        if let wanted = requested ?? configuration.modes[driver], supported.contains(wanted.path) { return wanted }
        if supported.contains(.native) { return .native }
        if supported.contains(.blocking) { return .offload }
        return nil
    }

    /// Counters of every driver plus the pool's thread gauges.
    public func snapshot() -> AsyncEngineSnapshot {
        AsyncEngineSnapshot(
            drivers: counters.snapshot(),
            offloadThreads: pool.threadCount,
            offloadThreadsPeak: pool.peakThreadCount,
            offloadThreadsBusy: pool.busyCount,
            offloadThreadLimit: pool.maxThreads
        )
    }

    /// Stops the offload pool (workers cancel their own jobs with ``AsyncWorker/cancelAll()``).
    public func shutdown() {
        pool.shutdown()
    }
}

/// Metrics copy of the whole engine.
public struct AsyncEngineSnapshot: Sendable, Equatable {
    /// Per-driver counters, sorted by driver name.
    public var drivers: [AsyncDriverSnapshot]
    /// Dispatch threads the offload lanes hold (slots whose work item is in Dispatch).
    public var offloadThreads: Int
    /// Highest ``offloadThreads`` so far.
    public var offloadThreadsPeak: Int
    /// Offload jobs running.
    public var offloadThreadsBusy: Int
    /// Sum of the limits of the lanes in use (bound on offload threads).
    public var offloadThreadLimit: Int

    /// The counters of one driver.
    public func driver(_ name: String) -> AsyncDriverSnapshot? { drivers.first { $0.driver == name } }
}
