/// Sizes and timings of an ``LDAPConnectionPool``.
public struct LDAPPoolConfiguration: Sendable, Equatable {
    /// Connections per pool (per worker and session). Searches are multiplexed on a connection (message
    /// ids), so one is usually enough; another opens only while every bound one has searches in flight.
    public var size: Int
    /// Searches that may wait for a bound connection; beyond that a search gets rc -4.
    public var maxQueue: Int
    /// First delay after a failed connect/bind before the pool tries again (doubles up to
    /// ``maxBackoffMs``); meanwhile a search that finds no live connection fails at once (rc -2).
    public var initialBackoffMs: UInt64
    /// Upper bound of the reconnect delay.
    public var maxBackoffMs: UInt64

    /// Creates a configuration.
    public init(size: Int = 1, maxQueue: Int = 1024, initialBackoffMs: UInt64 = 100, maxBackoffMs: UInt64 = 2000) {
        precondition(size > 0 && maxQueue >= 0)
        self.size = size
        self.maxQueue = maxQueue
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = max(maxBackoffMs, initialBackoffMs)
    }
}
