import Synchronization

/// Runs the blocking form of async operations on dedicated threads, never on a SIP worker.
///
/// Each driver gets a lane with its own limit of jobs running at once and its own bounded queue;
/// a full queue rejects the job at once (rc -4), so a slow driver cannot delay the others.
///
/// Threads are our own pthreads (not Dispatch's global pool): a lane starts a thread only when a job
/// is waiting and no idle thread exists, never more than its limit, and idle threads exit after
/// `idleThreadTimeoutMs`. So the pool never runs more threads than the sum of the lanes' limits — a
/// hard bound that Dispatch (which adds threads when work items block) does not give.
/// A job whose owner timed out keeps its slot until the blocking call returns.
public final class OffloadPool: Sendable {
    /// Limits and bounds of the pool.
    public struct Configuration: Sendable {
        /// Per-driver maximum of jobs running at once (`offload_limits`).
        public var limits: OffloadLimits
        /// Per-driver maximum of queued (not yet running) jobs (`offload_queue`).
        public var queueBounds: OffloadLimits
        /// Limit for drivers not listed in ``limits``.
        public var defaultLimit: Int
        /// Queue bound for drivers not listed in ``queueBounds``.
        public var defaultQueueBound: Int
        /// Idle offload threads exit after this long.
        public var idleThreadTimeoutMs: UInt64

        /// Creates a configuration.
        public init(limits: OffloadLimits = OffloadLimits(), queueBounds: OffloadLimits = OffloadLimits(),
                    defaultLimit: Int = 4, defaultQueueBound: Int = 1024, idleThreadTimeoutMs: UInt64 = 10_000) {
            self.limits = limits
            self.queueBounds = queueBounds
            self.defaultLimit = defaultLimit
            self.defaultQueueBound = defaultQueueBound
            self.idleThreadTimeoutMs = idleThreadTimeoutMs
        }
    }

    /// The configuration.
    public let configuration: Configuration
    private let lanes = Mutex<[String: OffloadLane]>([:])
    let gauges = OffloadGauges()

    /// Creates an idle pool (threads start on demand).
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Queues `body` on `driver`'s lane; `deliver` runs on the offload thread with the result.
    /// Returns `nil` (without running anything) when the lane's queue is full.
    func submit(driver: String, counters: AsyncDriverCounters,
                body: @escaping @Sendable () -> AsyncResult,
                deliver: @escaping @Sendable (AsyncResult) -> Void) -> OffloadTicket? {
        let ticket = OffloadTicket(body: body, deliver: deliver)
        return lane(for: driver, counters: counters).submit(ticket) ? ticket : nil
    }

    /// Offload threads alive now.
    public var threadCount: Int { gauges.threads.load(ordering: .relaxed) }
    /// Highest number of offload threads alive at once.
    public var peakThreadCount: Int { gauges.peakThreads.load(ordering: .relaxed) }
    /// Offload threads running a job now.
    public var busyCount: Int { gauges.busy.load(ordering: .relaxed) }
    /// Highest number of jobs running at once.
    public var peakBusyCount: Int { gauges.peakBusy.load(ordering: .relaxed) }
    /// Sum of the limits of the lanes created so far (the thread bound).
    public var maxThreads: Int { lanes.withLock { $0.values.reduce(0) { $0 + $1.limit } } }

    /// The drivers that have an offload lane (that ran at least one job on the pool).
    public var laneDrivers: Set<String> { lanes.withLock { Set($0.keys) } }

    /// The limit applied to `driver`.
    public func limit(for driver: String) -> Int { configuration.limits[driver] ?? configuration.defaultLimit }
    /// The queue bound applied to `driver`.
    public func queueBound(for driver: String) -> Int { configuration.queueBounds[driver] ?? configuration.defaultQueueBound }

    /// Stops accepting jobs; threads exit after draining their queues.
    public func shutdown() {
        for lane in lanes.withLock({ Array($0.values) }) { lane.shutdown() }
    }

    private func lane(for driver: String, counters: AsyncDriverCounters) -> OffloadLane {
        lanes.withLock { table in
            if let lane = table[driver] { return lane }
            let lane = OffloadLane(driver: driver, limit: limit(for: driver), queueBound: queueBound(for: driver),
                                   idleTimeoutMs: configuration.idleThreadTimeoutMs, counters: counters, gauges: gauges)
            table[driver] = lane
            return lane
        }
    }
}
