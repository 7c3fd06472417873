/// A request a ``ConnectionPoolStateMachine`` can queue, send and cancel by id.
public protocol ConnectionPoolRequest {
    /// How the request is named in ``ConnectionPoolStateMachine/Event/requestCancelled(_:runningOn:)``.
    associatedtype ID: Hashable
    /// Unique among the pool's pending requests.
    var id: ID { get }
}

/// Names one connection of a pool; issued by the ``ConnectionPoolStateMachine`` in
/// ``ConnectionPoolStateMachine/Action/openConnection(_:)`` and never reused.
public struct PoolConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// The number (1, 2, 3, … per pool).
    public let rawValue: UInt64

    /// Wraps a number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "connection#\(rawValue)" }
}

/// Why a request fails without an answer from the server.
public enum ConnectionPoolFailure: Sendable, Equatable {
    /// The pool was shut down before the request arrived.
    case closed
    /// The pool shut down while the request waited.
    case shutdown
    /// No connection is alive and none may be opened yet (fail-fast during the reconnect delay).
    case notConnected(retryInMs: UInt64)
    /// The connection refused to send it (bad request); the connection stays in service.
    case refused
    /// The connection was dead twice when the request was sent.
    case connectionLost
}

/// Why a connection leaves the pool (for the shell's counters and messages).
public enum ConnectionPoolCloseReason: Sendable, Equatable {
    /// An established connection broke, was not reusable, or was given up after an abandon.
    case dropped
    /// It never finished connecting (the failure starts the reconnect backoff).
    case connectFailed
    /// The pool is shutting down.
    case shutdown
    /// An idle connection the measured load no longer needs (``LoadSizing``).
    case retired
}
