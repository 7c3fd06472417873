/// Tuning of one ``MySQLPool`` (one pool per SIP worker thread).
public struct MySQLPoolConfiguration: Sendable, Equatable {
    /// What to do with a connection whose query was abandoned (timeout / CANCEL of the transaction).
    public enum CancelPolicy: Sendable, Equatable {
        /// Send `KILL QUERY <connection id>` on a side connection (a short-lived detached thread: it
        /// connects and waits), and close the abandoned connection. The server stops the statement at once.
        case killQuery
        /// Only close the connection (the pool reconnects on demand); the server may run the statement on.
        case dropConnection
    }

    /// Connections per pool (per worker).
    public var size: Int
    /// Requests that may wait for a free connection; beyond that a query gets rc -4.
    public var maxQueue: Int
    /// Time allowed for a non-blocking connect (TCP + handshake + auth + init command).
    public var connectTimeoutMs: UInt64
    /// First delay after a failed connect before the pool tries again (doubles up to ``maxBackoffMs``);
    /// during the delay a query that finds no live connection fails at once with rc -1.
    public var initialBackoffMs: UInt64
    /// Upper bound of the reconnect delay.
    public var maxBackoffMs: UInt64
    /// See ``CancelPolicy``.
    public var cancelPolicy: CancelPolicy
    /// Prepared statements kept per connection (by SQL text); beyond that a statement is closed after use.
    public var statementCacheSize: Int

    /// Creates a configuration.
    public init(size: Int = 4, maxQueue: Int = 1024, connectTimeoutMs: UInt64 = 3000, initialBackoffMs: UInt64 = 100,
                maxBackoffMs: UInt64 = 2000, cancelPolicy: CancelPolicy = .killQuery, statementCacheSize: Int = 128) {
        precondition(size > 0 && maxQueue >= 0 && statementCacheSize >= 0)
        self.size = size
        self.maxQueue = maxQueue
        self.connectTimeoutMs = connectTimeoutMs
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = max(maxBackoffMs, initialBackoffMs)
        self.cancelPolicy = cancelPolicy
        self.statementCacheSize = statementCacheSize
    }
}
