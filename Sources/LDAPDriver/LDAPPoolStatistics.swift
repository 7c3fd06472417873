/// Counters of one ``LDAPConnectionPool`` (tests, metrics).
public struct LDAPPoolStatistics: Sendable, Equatable {
    /// Connections started (`ldap_initialize` + async bind).
    public var connectAttempts = 0
    /// Connections that completed their bind.
    public var bindsSucceeded = 0
    /// Connects or binds that failed or timed out.
    public var connectFailures = 0
    /// Bound connections that broke (server gone, protocol error).
    public var connectionsDropped = 0
    /// Searches sent to the server.
    public var searchesSent = 0
    /// Searches given up by their owner (timeout, CANCEL) while the server had them.
    public var searchesAbandoned = 0
    /// Connections closed because they carried only given-up searches the server did not answer.
    public var staleConnectionsClosed = 0
    /// Searches failed at once because no connection was alive during the reconnect delay.
    public var searchesFailedFast = 0
    /// Searches refused because the queue was full.
    public var searchesRejected = 0
    /// Largest number of searches in flight on one connection at once.
    public var peakInFlight = 0
}
