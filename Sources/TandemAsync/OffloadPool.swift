import Synchronization

/// Runs the blocking form of async operations on Dispatch, never on a SIP worker.
///
/// Each driver gets a lane with its own limit of jobs running at once and its own bounded queue;
/// a full queue rejects the job at once (rc -4), so a slow driver cannot delay the others. Results go
/// back through the submitting worker's one ``CompletionQueue``.
///
/// A lane (``OffloadLane``) hands Dispatch a work item only while fewer than its limit are in Dispatch, so
/// the blocking jobs running at once never exceed the lane's limit and the pool never runs more than the
/// sum of the limits — Dispatch adds threads when work items block, but it never has more of our work
/// items than that. Jobs beyond the limit wait in the lane's own bounded queue. The lanes use serial
/// queues on libdispatch's overcommit pool with QoS `.userInitiated` (why: ``OffloadLane``); idle
/// threads are Dispatch's to keep or end. That pool starts at most 255 threads on Linux (libdispatch's
/// cap), so limits adding up to more run at most 255 jobs at once (`tandem check` warns). A job whose
/// owner timed out keeps its slot until the blocking call returns.
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

        /// Creates a configuration.
        public init(limits: OffloadLimits = OffloadLimits(), queueBounds: OffloadLimits = OffloadLimits(),
                    defaultLimit: Int = 4, defaultQueueBound: Int = 1024) {
            self.limits = limits
            self.queueBounds = queueBounds
            self.defaultLimit = defaultLimit
            self.defaultQueueBound = defaultQueueBound
        }
    }

    /// The configuration.
    public let configuration: Configuration
    private let lanes = Mutex<[String: OffloadLane]>([:])
    let gauges = OffloadGauges()

    /// Creates an idle pool (lanes are made on a driver's first job).
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

    /// Threads the lanes hold now: slots whose work item is in Dispatch (each holds at most one thread).
    public var threadCount: Int { gauges.threads.load(ordering: .relaxed) }
    /// Highest ``threadCount`` so far.
    public var peakThreadCount: Int { gauges.peakThreads.load(ordering: .relaxed) }
    /// Jobs running now.
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

    /// Stops accepting jobs; the jobs already queued still run.
    public func shutdown() {
        for lane in lanes.withLock({ Array($0.values) }) { lane.shutdown() }
    }

    private func lane(for driver: String, counters: AsyncDriverCounters) -> OffloadLane {
        lanes.withLock { table in
            if let lane = table[driver] { return lane }
            let lane = OffloadLane(driver: driver, limit: limit(for: driver), queueBound: queueBound(for: driver),
                                   counters: counters, gauges: gauges)
            table[driver] = lane
            return lane
        }
    }
}
