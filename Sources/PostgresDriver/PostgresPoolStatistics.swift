/// Counters of one ``PostgresPool`` (loop thread; copy for metrics).
public struct PostgresPoolStatistics: Sendable, Equatable {
    /// Connection attempts started.
    public var connectAttempts = 0
    /// Connection attempts that failed (refused, auth, timeout).
    public var connectFailures = 0
    /// Connections that reached `CONNECTION_OK`.
    public var connectsSucceeded = 0
    /// Established connections dropped (server gone, protocol error, abandoned query, left in a transaction).
    public var connectionsDropped = 0
    /// Idle connections closed because the measured load no longer needed them.
    public var connectionsRetired = 0
    /// Queries handed to a connection.
    public var queriesSent = 0
    /// Query texts prepared as named statements (once per text per connection).
    public var statementsPrepared = 0
    /// Queries rejected because the wait queue was full.
    public var queriesRejected = 0
    /// Queries failed at once because no connection could be made.
    public var queriesFailedFast = 0
    /// Cancel requests sent (`PQcancel`).
    public var cancelRequests = 0
    /// Abandoned queries that shared their connection's pipeline with others: no cancel request, their
    /// results were read and discarded when they arrived.
    public var abandonedInPipeline = 0
    /// `PQconnectPoll` calls of the last successful connect (how many loop wake-ups a connect needs).
    public var lastConnectPolls = 0
    /// Duration of the last successful connect, in microseconds.
    public var lastConnectMicroseconds: UInt64 = 0

    /// Creates zeroed counters.
    public init() {}
}
