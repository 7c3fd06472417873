/// Sizes and timings of an ``LDAPConnectionPool``.
public struct LDAPPoolConfiguration: Sendable, Equatable {
    /// Connections per pool (per worker and session). Searches are multiplexed on a connection (message
    /// ids); another opens while every bound one has searches in flight, up to this many.
    public var size: Int
    /// Searches one connection carries at the server at once, abandoned ones included (a search whose
    /// owner gave up keeps its slot until the server answers it). Beyond that a search goes to another
    /// connection, or waits in the queue. slapd drops a connection whose pending operations exceed its
    /// limit (`conn_max_pending_auth`, 1,000 by default), which a frozen-then-resumed server reached with
    /// every search of a worker on one connection.
    public var maxSearchesPerConnection: Int
    /// Searches that may wait for a bound connection; beyond that a search gets rc -4.
    public var maxQueue: Int
    /// First delay after a failed connect/bind before the pool tries again (doubles up to
    /// ``maxBackoffMs``); meanwhile a search that finds no live connection fails at once (rc -2).
    public var initialBackoffMs: UInt64
    /// Upper bound of the reconnect delay.
    public var maxBackoffMs: UInt64
    /// A connection that carries only abandoned searches, the oldest given up this long ago, is closed
    /// (and replaced on demand): the server is not answering on it. Long (30 s) by default: a frozen
    /// server that resumes within it finds its connections still bound, whereas a closed one would be
    /// replaced only after the reconnect backoff (a 10 s freeze at 200 searches/s with 5 s here gave
    /// ~230 fast failures in the seconds after the resume).
    public var orphanTimeoutMs: UInt64

    /// Creates a configuration.
    public init(size: Int = 4, maxSearchesPerConnection: Int = 64, maxQueue: Int = 1024, initialBackoffMs: UInt64 = 100,
                maxBackoffMs: UInt64 = 2000, orphanTimeoutMs: UInt64 = 30_000) {
        precondition(size > 0 && maxQueue >= 0 && maxSearchesPerConnection > 0)
        self.size = size
        self.maxSearchesPerConnection = maxSearchesPerConnection
        self.maxQueue = maxQueue
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = max(maxBackoffMs, initialBackoffMs)
        self.orphanTimeoutMs = orphanTimeoutMs
    }
}
