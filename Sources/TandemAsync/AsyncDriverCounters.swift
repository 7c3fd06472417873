import Synchronization

/// Live counters for one driver (e.g. `"exec"`), shared by every worker and offload thread.
/// Totals only grow; gauges (`inFlight`, `queued`, `offloadBusy`) go up and down.
///
/// `@unchecked Sendable`: every field is an `Atomic` (the histogram buckets are atomics in a buffer
/// allocated in `init`, never resized, freed in `deinit`).
public final class AsyncDriverCounters: @unchecked Sendable {
    /// Upper bounds (ms, inclusive) of the latency histogram buckets; a last bucket counts the rest.
    public static let latencyBucketsMs: [UInt64] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]

    /// The driver name.
    public let driver: String
    let started = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let timedOut = Atomic<Int>(0)
    let cancelled = Atomic<Int>(0)
    let rejected = Atomic<Int>(0)
    let lateDropped = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
    let queued = Atomic<Int>(0)
    let offloadBusy = Atomic<Int>(0)
    private let buckets: UnsafeMutablePointer<Atomic<Int>>
    private let bucketCount: Int
    private let latencyRecorder: AsyncLatencyRecorder?

    init(driver: String, latencyRecorder: AsyncLatencyRecorder? = nil) {
        self.driver = driver
        self.latencyRecorder = latencyRecorder
        bucketCount = Self.latencyBucketsMs.count + 1
        buckets = .allocate(capacity: bucketCount)
        for i in 0..<bucketCount { (buckets + i).initialize(to: Atomic(0)) }
    }

    deinit {
        buckets.deinitialize(count: bucketCount)
        buckets.deallocate()
    }

    /// Records the latency of a completed job (bucket bounds compared exactly, in nanoseconds, as a
    /// Prometheus histogram does), and hands it to the latency recorder if there is one.
    func recordLatency(nanoseconds: UInt64) {
        var index = Self.latencyBucketsMs.count
        for (i, bound) in Self.latencyBucketsMs.enumerated() where nanoseconds <= bound &* 1_000_000 {
            index = i
            break
        }
        buckets[index].add(1, ordering: .relaxed)
        latencyRecorder?(nanoseconds)
    }

    /// A copy of the counters (each field read atomically).
    ///
    /// The outcome totals are read first, then `inFlight`, then `started` last. A job bumps `started`
    /// before `inFlight`, and drops `inFlight` before bumping its outcome, so a snapshot taken under
    /// load satisfies `started >= completed + timedOut + cancelled + rejected + inFlight`, with
    /// equality once no job starts or resolves.
    public func snapshot() -> AsyncDriverSnapshot {
        let completed = completed.load(ordering: .acquiring)
        let timedOut = timedOut.load(ordering: .acquiring)
        let cancelled = cancelled.load(ordering: .acquiring)
        let rejected = rejected.load(ordering: .acquiring)
        let inFlight = inFlight.load(ordering: .acquiring)
        let started = started.load(ordering: .acquiring)
        var histogram: [Int] = []
        histogram.reserveCapacity(bucketCount)
        for i in 0..<bucketCount { histogram.append(buckets[i].load(ordering: .relaxed)) }
        return AsyncDriverSnapshot(
            driver: driver,
            started: started,
            completed: completed,
            timedOut: timedOut,
            cancelled: cancelled,
            rejected: rejected,
            lateDropped: lateDropped.load(ordering: .relaxed),
            inFlight: inFlight,
            queued: queued.load(ordering: .relaxed),
            offloadBusy: offloadBusy.load(ordering: .relaxed),
            latencyHistogram: histogram
        )
    }
}

/// Receives the latency (nanoseconds) of every job of one driver that completed, e.g. to feed a
/// metrics histogram. Runs on the worker's loop thread for each completion: keep it cheap.
public typealias AsyncLatencyRecorder = @Sendable (_ nanoseconds: UInt64) -> Void

/// Makes the ``AsyncLatencyRecorder`` of a driver (called once per driver, when its counters are created).
public typealias AsyncLatencyRecorderFactory = @Sendable (_ driver: String) -> AsyncLatencyRecorder?

/// A copy of one driver's counters, for metrics.
public struct AsyncDriverSnapshot: Sendable, Equatable {
    /// Driver name.
    public var driver: String
    /// Jobs started (every `start` call, rejected ones included).
    public var started: Int
    /// Jobs resumed with the driver's own result.
    public var completed: Int
    /// Jobs resumed with rc -3.
    public var timedOut: Int
    /// Jobs cancelled explicitly (rc -1).
    public var cancelled: Int
    /// Jobs refused by a full offload queue (rc -4).
    public var rejected: Int
    /// Driver results that arrived after the job had been resolved (dropped).
    public var lateDropped: Int
    /// Gauge: started and not yet resolved.
    public var inFlight: Int
    /// Gauge: waiting in the offload queue.
    public var queued: Int
    /// Gauge: running on an offload thread (timed-out jobs included until their blocking call returns).
    public var offloadBusy: Int
    /// Completed-job latency counts per bucket of ``AsyncDriverCounters/latencyBucketsMs`` (+ overflow).
    public var latencyHistogram: [Int]
}

/// The per-driver counter registry of one ``AsyncEngine``.
public final class AsyncCounters: Sendable {
    private let drivers = Mutex<[String: AsyncDriverCounters]>([:])
    private let latencyRecorders: AsyncLatencyRecorderFactory?

    init(latencyRecorders: AsyncLatencyRecorderFactory? = nil) {
        self.latencyRecorders = latencyRecorders
    }

    /// The counters of `driver` (created on first use).
    public func counters(for driver: String) -> AsyncDriverCounters {
        drivers.withLock { table in
            if let existing = table[driver] { return existing }
            let created = AsyncDriverCounters(driver: driver, latencyRecorder: latencyRecorders?(driver))
            table[driver] = created
            return created
        }
    }

    /// Snapshots of every driver seen so far, sorted by name.
    public func snapshot() -> [AsyncDriverSnapshot] {
        let all = drivers.withLock { Array($0.values) }
        return all.map { $0.snapshot() }.sorted { $0.driver < $1.driver }
    }
}
