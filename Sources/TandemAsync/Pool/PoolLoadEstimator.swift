import Reactor

/// What a pool measures to size itself: the arrival rate of its requests and their latency (time from
/// send to completion), both smoothed (exponentially weighted moving averages), and from them the
/// number of requests the load keeps in flight (Little's law: rate × latency).
///
/// A pure value: every call takes the time, so tests drive it with a manual time line. The rate is
/// counted in windows of ``windowNanoseconds``; a window that passes without a request counts as a
/// window with none, so the estimate falls back to zero when the load stops.
public struct PoolLoadEstimator: Sendable, Equatable {
    /// The length of one counting window of the arrival rate.
    public let windowNanoseconds: UInt64
    /// Weight of the newest window in the rate average (0…1).
    public let rateWeight: Double
    /// Weight of the newest sample in the latency average (0…1).
    public let latencyWeight: Double

    /// Smoothed arrivals per second (0 until the first window is over).
    public private(set) var arrivalsPerSecond: Double = 0
    /// Smoothed latency in nanoseconds (0 until the first sample).
    public private(set) var latencyNanoseconds: Double = 0
    private var windowStart: Deadline?
    private var arrivalsInWindow = 0

    /// Creates an estimator with no measurement yet.
    public init(windowMs: UInt64 = 200, rateWeight: Double = 0.5, latencyWeight: Double = 0.125) {
        precondition(windowMs > 0 && rateWeight > 0 && rateWeight <= 1 && latencyWeight > 0 && latencyWeight <= 1)
        self.windowNanoseconds = windowMs * 1_000_000
        self.rateWeight = rateWeight
        self.latencyWeight = latencyWeight
    }

    /// Requests the measured load keeps in flight: arrivals per second × latency.
    public var concurrency: Double { arrivalsPerSecond * latencyNanoseconds / 1e9 }

    /// Counts one arriving request.
    public mutating func arrived(now: Deadline) {
        advance(now: now)
        arrivalsInWindow += 1
    }

    /// Adds one latency sample (send to completion).
    public mutating func completed(latencyNanoseconds sample: UInt64) {
        let value = Double(sample)
        latencyNanoseconds = latencyNanoseconds == 0 ? value
            : latencyNanoseconds + latencyWeight * (value - latencyNanoseconds)
    }

    /// Closes the windows that are over at `now` (each one a rate sample; empty ones count as zero).
    public mutating func advance(now: Deadline) {
        guard let start = windowStart else {
            windowStart = now
            return
        }
        let elapsed = start.nanoseconds(until: now)
        guard elapsed >= windowNanoseconds else { return }
        let windows = elapsed / windowNanoseconds
        let sample = Double(arrivalsInWindow) * 1e9 / Double(windowNanoseconds)
        arrivalsPerSecond += rateWeight * (sample - arrivalsPerSecond)
        // The windows after the first one that passed had no arrival at all.
        if windows > 1 {
            let keep = 1 - rateWeight
            var factor = 1.0
            for _ in 1..<min(windows, 64) { factor *= keep }
            arrivalsPerSecond = windows >= 64 ? 0 : arrivalsPerSecond * factor
        }
        arrivalsInWindow = 0
        windowStart = start.advanced(byMilliseconds: windows * windowNanoseconds / 1_000_000)
    }

    /// The connections that carry the measured load with `perConnection` requests on each and
    /// `headroom` (1.5: half again as much) for bursts; at least 0.
    public func connectionsNeeded(perConnection: Int, headroom: Double = 1.5) -> Int {
        let needed = (concurrency * headroom / Double(max(1, perConnection))).rounded(.up)
        return needed.isFinite ? Int(min(needed, 1_000_000)) : 0
    }
}
