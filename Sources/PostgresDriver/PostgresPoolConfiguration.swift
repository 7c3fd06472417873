/// Tuning of one ``PostgresPool`` (one pool per SIP worker thread).
public struct PostgresPoolConfiguration: Sendable, Equatable {
    /// What to do with a connection whose query was abandoned (timeout / CANCEL of the transaction).
    public enum CancelPolicy: Sendable, Equatable {
        /// Send a cancel request (`PQcancel`, on a short-lived detached thread because it blocks while it
        /// connects) and drain the connection until idle; drop it if that takes longer than
        /// ``PostgresPoolConfiguration/drainTimeoutMs``. The server stops the statement at once.
        case cancelRequest
        /// Close the connection (the pool reconnects on demand). No thread, but the server keeps running
        /// the statement until it notices the client is gone.
        case dropConnection
    }

    /// Connections per pool (per worker) at most.
    public var size: Int
    /// Requests that may wait for a free connection; beyond that a query gets rc -4.
    public var maxQueue: Int
    /// Time allowed for a non-blocking connect (TCP + startup + auth) before it counts as failed.
    public var connectTimeoutMs: UInt64
    /// First delay after a failed connect before the pool tries again (doubles up to ``maxBackoffMs``);
    /// during the delay a query that finds no live connection fails at once with rc -1.
    public var initialBackoffMs: UInt64
    /// Upper bound of the reconnect delay.
    public var maxBackoffMs: UInt64
    /// See ``CancelPolicy``.
    public var cancelPolicy: CancelPolicy
    /// How long an abandoned connection may take to become idle after a cancel request.
    public var drainTimeoutMs: UInt64
    /// Queries in flight at once on one connection (libpq pipeline mode, each query with its own sync
    /// point so an error affects only that query). 1 = no pipeline, one query per connection.
    public var pipelineDepth: Int
    /// Whether the pool sizes itself from the measured load within ``size`` (query latency and arrival
    /// rate, ``LoadSizing``): it opens a connection (rather than pipelining deeper) only when the open ones
    /// do not carry rate × latency, and closes extra connections idle for ``idleTimeoutMs``. Off: it
    /// opens connections whenever a query would share one (up to ``size``) and keeps them.
    public var sizesFromLoad: Bool
    /// Connections kept open however low the load (with ``sizesFromLoad``), and the ones
    /// ``PostgresPool/warmUp()`` opens (a worker's pool at start).
    public var minConnections: Int
    /// How long an extra connection may stay idle before it is closed (with ``sizesFromLoad``; 0: never).
    public var idleTimeoutMs: UInt64
    /// Whether a query runs as a named prepared statement of its connection (prepared on its second use
    /// there — a text run once is not — then only bound and executed: the server parses and plans the text once per connection, and
    /// keeps a generic plan when it is as good). Off: every query is parsed and planned again (the unnamed
    /// statement), as needed behind a pooler that does not keep prepared statements.
    public var preparesStatements: Bool
    /// Prepared statements per connection at most (distinct query texts); further texts run unprepared.
    public var maxPreparedStatements: Int

    /// Creates a configuration.
    public init(size: Int = 4, maxQueue: Int = 1024, connectTimeoutMs: UInt64 = 3000, initialBackoffMs: UInt64 = 100,
                maxBackoffMs: UInt64 = 2000, cancelPolicy: CancelPolicy = .cancelRequest, drainTimeoutMs: UInt64 = 2000,
                pipelineDepth: Int = 1, sizesFromLoad: Bool = true, minConnections: Int = 1,
                idleTimeoutMs: UInt64 = 10_000, preparesStatements: Bool = true, maxPreparedStatements: Int = 64) {
        precondition(size > 0 && maxQueue >= 0 && pipelineDepth > 0)
        self.size = size
        self.maxQueue = maxQueue
        self.connectTimeoutMs = connectTimeoutMs
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = max(maxBackoffMs, initialBackoffMs)
        self.cancelPolicy = cancelPolicy
        self.drainTimeoutMs = drainTimeoutMs
        self.pipelineDepth = pipelineDepth
        self.sizesFromLoad = sizesFromLoad
        self.minConnections = min(max(0, minConnections), size)
        self.idleTimeoutMs = idleTimeoutMs
        self.preparesStatements = preparesStatements
        self.maxPreparedStatements = max(0, maxPreparedStatements)
    }
}
