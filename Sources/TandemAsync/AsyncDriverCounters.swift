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

    init(driver: String) {
        self.driver = driver
        bucketCount = Self.latencyBucketsMs.count + 1
        buckets = .allocate(capacity: bucketCount)
        for i in 0..<bucketCount { (buckets + i).initialize(to: Atomic(0)) }
    }

    deinit {
        buckets.deinitialize(count: bucketCount)
        buckets.deallocate()
    }

    /// Records the latency of a completed job.
    func recordLatency(nanoseconds: UInt64) {
        let ms = nanoseconds / 1_000_000
        var index = Self.latencyBucketsMs.count
        for (i, bound) in Self.latencyBucketsMs.enumerated() where ms <= bound {
            index = i
            break
        }
        buckets[index].add(1, ordering: .relaxed)
    }

    /// A consistent-enough copy of the counters (each field is read atomically).
    public func snapshot() -> AsyncDriverSnapshot {
        var histogram: [Int] = []
        histogram.reserveCapacity(bucketCount)
        for i in 0..<bucketCount { histogram.append(buckets[i].load(ordering: .relaxed)) }
        return AsyncDriverSnapshot(
            driver: driver,
            started: started.load(ordering: .relaxed),
            completed: completed.load(ordering: .relaxed),
            timedOut: timedOut.load(ordering: .relaxed),
            cancelled: cancelled.load(ordering: .relaxed),
            rejected: rejected.load(ordering: .relaxed),
            lateDropped: lateDropped.load(ordering: .relaxed),
            inFlight: inFlight.load(ordering: .relaxed),
            queued: queued.load(ordering: .relaxed),
            offloadBusy: offloadBusy.load(ordering: .relaxed),
            latencyHistogram: histogram
        )
    }
}

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

    init() {}

    /// The counters of `driver` (created on first use).
    public func counters(for driver: String) -> AsyncDriverCounters {
        drivers.withLock { table in
            if let existing = table[driver] { return existing }
            let created = AsyncDriverCounters(driver: driver)
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
