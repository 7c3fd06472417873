/// The sizes and rules of a ``ConnectionPoolStateMachine`` (what differs between the drivers' pools).
public struct ConnectionPoolPolicy: Sendable, Equatable {
    /// What an abandoned running request (timeout, CANCEL) does to its connection.
    public enum AbandonPolicy: Sendable, Equatable {
        /// The connection stays in service (multiplexed protocols such as LDAP: abandon by message id).
        case keepConnection
        /// Ask the server to cancel and read until idle; close the connection if that takes longer than
        /// `timeoutMs` (PostgreSQL's cancel request).
        case drain(timeoutMs: UInt64)
        /// Close the connection (the pool reconnects on demand).
        case closeConnection
    }

    /// Connections at most.
    public var size: Int
    /// Requests that may wait for a connection; beyond that a request is rejected (rc -4).
    public var maxQueue: Int
    /// Requests one connection runs at once (1 for PostgreSQL; many for LDAP, which multiplexes).
    public var maxRequestsPerConnection: Int
    /// Connects in progress at once (never more than requests waiting).
    public var maxConcurrentConnects: Int
    /// Connections a warm-up opens.
    public var warmUpConnections: Int
    /// First reconnect delay after a failed connect (doubles up to ``maxBackoffMs``).
    public var initialBackoffMs: UInt64
    /// Upper bound of the reconnect delay.
    public var maxBackoffMs: UInt64
    /// See ``AbandonPolicy``.
    public var abandon: AbandonPolicy
    /// Sizing from the measured load (see ``LoadSizing``); `nil`: connections open on demand up to
    /// ``size`` and stay open.
    public var sizing: LoadSizing?
    /// Whether the first round of failed connects after a success is retried at once, without a delay
    /// (a restarted database is usually back within a moment). The delay starts with the next round.
    public var retriesFirstFailureAtOnce: Bool

    /// Creates a policy.
    public init(size: Int, maxQueue: Int = 1024, maxRequestsPerConnection: Int = 1, maxConcurrentConnects: Int? = nil,
                warmUpConnections: Int? = nil, initialBackoffMs: UInt64 = 100, maxBackoffMs: UInt64 = 2000,
                abandon: AbandonPolicy = .closeConnection, retriesFirstFailureAtOnce: Bool = true,
                sizing: LoadSizing? = nil) {
        precondition(size > 0 && maxQueue >= 0 && maxRequestsPerConnection > 0)
        self.size = size
        self.maxQueue = maxQueue
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.maxConcurrentConnects = max(1, maxConcurrentConnects ?? size)
        self.warmUpConnections = warmUpConnections ?? size
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = max(maxBackoffMs, initialBackoffMs)
        self.abandon = abandon
        self.retriesFirstFailureAtOnce = retriesFirstFailureAtOnce
        self.sizing = sizing
    }
}

/// How a pool sizes itself from its measured load (``PoolLoadEstimator``) within
/// ``ConnectionPoolPolicy/size``.
///
/// The pool wants `ceil(rate × latency × headroom / planned requests per connection)` connections (planned:
/// ``plannedDepthShare`` of ``ConnectionPoolPolicy/maxRequestsPerConnection``, the rest of a pipeline is
/// for bursts), and never fewer than the requests running and waiting now need at the full depth, nor
/// fewer than ``minConnections``:
/// - below that it opens a connection when a request would otherwise share a busy one (so a pipelined
///   pool pipelines deeper only while its open connections carry the load);
/// - requests go to the first wanted connections (the least loaded of them), so extra ones fall idle;
/// - an extra connection idle for ``idleTimeoutMs`` is closed (on ``ConnectionPoolStateMachine/Event/maintenance``).
public struct LoadSizing: Sendable, Equatable {
    /// Connections kept open however low the load.
    public var minConnections: Int
    /// How long an extra connection may stay idle before it is closed (0: never).
    public var idleTimeoutMs: UInt64
    /// Room for bursts over the measured concurrency (1.5 = half again as much).
    public var headroom: Double
    /// The counting window of the arrival rate.
    public var windowMs: UInt64
    /// The share of a connection's request limit the measured load is planned with (0.25: a pipeline of
    /// 16 is planned at 4 and fills up to 16 only in bursts; one server backend runs a connection's
    /// statements one after the other, so several shallow pipelines answer sooner than one deep one).
    public var plannedDepthShare: Double

    /// Creates the sizing rules.
    public init(minConnections: Int = 1, idleTimeoutMs: UInt64 = 10_000, headroom: Double = 1.5, windowMs: UInt64 = 200,
                plannedDepthShare: Double = 0.25) {
        precondition(minConnections >= 0 && headroom >= 1 && windowMs > 0 && plannedDepthShare > 0 && plannedDepthShare <= 1)
        self.plannedDepthShare = plannedDepthShare
        self.minConnections = minConnections
        self.idleTimeoutMs = idleTimeoutMs
        self.headroom = headroom
        self.windowMs = windowMs
    }
}
