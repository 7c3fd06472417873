/// Counters of one ``MySQLPool`` (loop thread; copy for metrics and tests).
public struct MySQLPoolStatistics: Sendable, Equatable {
    /// Connection attempts started.
    public var connectAttempts = 0
    /// Connection attempts that failed (refused, auth, timeout).
    public var connectFailures = 0
    /// Connections established.
    public var connectsSucceeded = 0
    /// Established connections dropped (server gone, abandoned query, left in a transaction).
    public var connectionsDropped = 0
    /// Queries handed to a connection.
    public var queriesSent = 0
    /// Queries rejected because the wait queue was full.
    public var queriesRejected = 0
    /// Queries failed at once because no connection could be made.
    public var queriesFailedFast = 0
    /// `KILL QUERY` requests sent for abandoned queries.
    public var killRequests = 0
    /// Statements prepared on the server (a cached one is not prepared again).
    public var statementsPrepared = 0
    /// Library wake-ups (`*_cont` calls) of the last successful connect.
    public var lastConnectSteps = 0

    /// Creates zeroed counters.
    public init() {}
}
