import Reactor

/// The pool logic shared by the PostgreSQL and LDAP drivers, as a pure value: events in, actions out.
///
/// The machine decides; the driver's pool (the "shell") owns the C handles, sockets and timers and only
/// executes what the machine returns. There is no C and no clock read in here: the time comes in with
/// every call, so tests feed events with a manual time line and compare the actions as values.
///
/// What it decides:
/// - which connection serves a request (the least loaded ready one, up to
///   ``ConnectionPoolPolicy/maxRequestsPerConnection``), or that it waits in a bounded FIFO queue
///   (full → ``Action/reject(_:)``, rc -4 in the drivers);
/// - when to open a connection (on demand, up to ``ConnectionPoolPolicy/size``, at most
///   ``ConnectionPoolPolicy/maxConcurrentConnects`` at once) and the reconnect backoff after a failed
///   connect (first retry on demand, then a doubling delay, capped);
/// - fail-fast: while no connection is alive and the backoff runs, queued requests fail at once;
/// - what an abandoned running request costs its connection (``ConnectionPoolPolicy/AbandonPolicy``);
/// - shutdown: every connection closes, every queued request fails;
/// - with ``ConnectionPoolPolicy/sizing``: how many connections the measured load needs
///   (``targetConnections``), whether a request shares a busy connection or a new one opens, and which
///   idle extra connection closes (on ``Event/maintenance``).
///
/// Driving it: call ``handle(_:now:)`` with an event and execute the action it returns, then call
/// ``nextAction(now:)`` and execute its actions until it returns ``Action/none`` (follow-ups such as
/// handing queued requests to a new connection, or failing the queue). The state is consistent after
/// each call, so an action's completion may feed new events (re-entrancy) before the loop continues.
/// No call allocates per event apart from queue and connection-list growth.
///
/// ```swift
/// var machine = ConnectionPoolStateMachine<MyRequest>(policy: ConnectionPoolPolicy(size: 2))
/// var action = machine.handle(.requestArrived(request), now: clock.now)
/// while true {
///     execute(action)                      // e.g. .openConnection(id): start a non-blocking connect
///     action = machine.nextAction(now: clock.now)
///     if case .none = action { break }
/// }
/// ```
public struct ConnectionPoolStateMachine<Request: ConnectionPoolRequest> {
    /// Something that happened to the pool.
    public enum Event {
        /// A new request (from ``ConnectionPoolRequest``'s owner).
        case requestArrived(Request)
        /// A connection finished connecting (and authenticating): it can take requests.
        case connectionEstablished(PoolConnectionID)
        /// A connection could not be made (refused, authentication, timeout): starts or lengthens the backoff.
        case connectionFailed(PoolConnectionID)
        /// An established connection broke (server gone, protocol error), idle or with requests on it.
        case connectionClosed(PoolConnectionID)
        /// A request on the connection is over; `reusable` is false if the connection must not serve again.
        case requestFinished(PoolConnectionID, reusable: Bool)
        /// A ``Action/send(_:on:isRetry:)`` could not be sent; `connectionLost`: the connection is dead
        /// (nothing reached the server), otherwise the request was refused locally and the connection is fine.
        case sendFailed(Request, on: PoolConnectionID, connectionLost: Bool, isRetry: Bool)
        /// The request's owner gives up (timeout, CANCEL). `runningOn`: the connection it runs on, or nil
        /// if it is not running (then it is removed from the queue, if there).
        case requestCancelled(Request.ID, runningOn: PoolConnectionID?)
        /// The timer armed by an ``Action/drain(_:timeoutMs:)`` fired.
        case timerFired(PoolConnectionID)
        /// Open connections up to ``ConnectionPoolPolicy/warmUpConnections`` now.
        case warmUp
        /// Periodic check (the shell's timer): close extra connections idle for longer than
        /// ``LoadSizing/idleTimeoutMs`` (only with ``ConnectionPoolPolicy/sizing``).
        case maintenance
        /// Close everything and fail what waits (worker shutdown).
        case shutdown
    }

    /// What the shell must do.
    public enum Action {
        /// Nothing (more) to do.
        case none
        /// Start connecting a new connection with this id (report ``Event/connectionEstablished(_:)`` or
        /// ``Event/connectionFailed(_:)``).
        case openConnection(PoolConnectionID)
        /// Send the request on the connection (report ``Event/sendFailed(_:on:connectionLost:isRetry:)`` if
        /// that fails; ``Event/requestFinished(_:reusable:)`` when it is over). `isRetry`: the second attempt.
        case send(Request, on: PoolConnectionID, isRetry: Bool)
        /// The queue is full: rc -4. Only ever the answer to ``Event/requestArrived(_:)``, so the caller
        /// can report it at once (the drivers' `submit` returns nil and never calls the completion).
        case reject(Request)
        /// Complete the request with an error.
        case fail(Request, ConnectionPoolFailure)
        /// Close the connection and forget it; requests still running on it fail (the shell knows them),
        /// and so does `failing` (a request whose send found the connection dead a second time).
        case closeConnection(PoolConnectionID, ConnectionPoolCloseReason, failing: Request?)
        /// The abandoned request's connection stays in service: tell the server to stop the request.
        case abandon(on: PoolConnectionID)
        /// The abandoned request's connection must be drained: ask the server to cancel, read until the
        /// connection is idle (then ``Event/requestFinished(_:reusable:)``), and arm a timer of `timeoutMs`
        /// that reports ``Event/timerFired(_:)``.
        case drain(PoolConnectionID, timeoutMs: UInt64)
    }

    /// Where a connection is in its life.
    /// Where a connection is (not generic: see ``PoolConnection``).
    typealias ConnectionState = PoolConnectionState
    /// One connection of the pool (not generic: see ``PoolConnection``).
    typealias Connection = PoolConnection

    struct QueuedRequest {
        var request: Request
        /// Re-queued once after its send found a dead connection.
        var retried: Bool
    }

    /// The pool as a whole (not generic: see ``PoolConnection``).
    typealias Lifecycle = PoolLifecycle

    /// The sizes and rules.
    public let policy: ConnectionPoolPolicy
    var lifecycle = Lifecycle.running
    var connections: [Connection] = []
    var queue = PoolQueue<QueuedRequest>()
    var backoff = ReconnectBackoff()
    var nextConnectionID: UInt64 = 1
    /// An event asked for the "open a connection or fail fast" check (done once, in ``nextAction(now:)``).
    var growPending = false
    /// A request went to a connection that already had work: open one more if allowed.
    var growIfAllBusyPending = false
    /// A ``Event/warmUp`` is opening connections.
    var warming = false
    /// Queued requests are being failed with this (fail-fast or shutdown).
    var sweep: ConnectionPoolFailure?
    /// The measured arrival rate and latency (used with ``ConnectionPoolPolicy/sizing``).
    public private(set) var load: PoolLoadEstimator
    /// A ``Event/maintenance`` looks for idle extra connections to close.
    var retirePending = false
    /// Requests running or being drained on connections (kept by ``setState(_:_:)``; the queue is apart).
    var running = 0
    /// The connections the measured load needs (cached from ``load``; 0 without sizing).
    var measuredConnections = 0

    /// Creates an empty pool (nothing opens before the first request or ``Event/warmUp``).
    public init(policy: ConnectionPoolPolicy) {
        self.policy = policy
        self.load = PoolLoadEstimator(windowMs: policy.sizing?.windowMs ?? 200)
    }

    // MARK: - Gauges

    /// Connections open or opening.
    public var connectionCount: Int { connections.count }
    /// Connections still connecting.
    public var connectingCount: Int { count { $0 == .connecting } }
    /// Connections ready with nothing running.
    public var idleCount: Int { count { $0 == .ready(load: 0) } }
    /// Connections ready for requests (idle or not).
    public var readyCount: Int {
        count { if case .ready = $0 { true } else { false } }
    }
    /// Requests waiting for a connection.
    public var queuedCount: Int { queue.count }
    /// Whether the reconnect delay runs at `now` (no connect is attempted before it ends).
    public func isInBackoff(now: Deadline) -> Bool { backoff.isRunning(now: now) }
    /// Milliseconds until the next connect may start (0 when none is pending).
    public func retryInMilliseconds(now: Deadline) -> UInt64 { backoff.remainingMilliseconds(now: now) }
    /// The reconnect delay set by the last failed round (0 while the next connect may go at once).
    public var reconnectDelayMs: UInt64 { backoff.delayMs }

    /// Requests running (or being drained) on connections and waiting in the queue.
    public var demand: Int { running + queue.count }

    /// The connections the pool wants now: ``ConnectionPoolPolicy/size`` without sizing; with it, what the
    /// measured concurrency (plus headroom) and the current demand need, within
    /// ``LoadSizing/minConnections`` … ``ConnectionPoolPolicy/size``.
    public var targetConnections: Int {
        guard let sizing = policy.sizing else { return policy.size }
        let perConnection = policy.maxRequestsPerConnection
        let now = (demand + perConnection - 1) / perConnection
        return min(policy.size, max(sizing.minConnections, 1, measuredConnections, now))
    }

    /// Adds a latency sample (send to completion of one request) to the load measurement.
    public mutating func recordLatency(nanoseconds: UInt64) {
        load.completed(latencyNanoseconds: nanoseconds)
        refreshMeasuredConnections()
    }

    /// Recomputes ``measuredConnections`` after the load measurement changed.
    private mutating func refreshMeasuredConnections() {
        guard let sizing = policy.sizing else { return }
        let planned = Int((Double(policy.maxRequestsPerConnection) * sizing.plannedDepthShare).rounded(.down))
        measuredConnections = load.connectionsNeeded(perConnection: max(1, planned), headroom: sizing.headroom)
    }

    /// Changes a connection's state, keeping ``running`` in step.
    private mutating func setState(_ index: Int, _ state: ConnectionState) {
        running += state.running - connections[index].state.running
        connections[index].state = state
    }

    /// Removes a connection, keeping ``running`` in step.
    private mutating func removeConnection(at index: Int) -> Connection {
        running -= connections[index].state.running
        return connections.remove(at: index)
    }

    private func count(_ predicate: (ConnectionState) -> Bool) -> Int {
        connections.countStates(where: predicate)
    }

    // MARK: - Events

    /// Applies `event` at time `now`; returns the first action. Call ``nextAction(now:)`` afterwards.
    public mutating func handle(_ event: Event, now: Deadline) -> Action {
        switch event {
        case .requestArrived(let request):
            return requestArrived(request, now: now)
        case .connectionEstablished(let id):
            guard let index = index(of: id) else { return .none }
            setState(index, .ready(load: 0))
            connections[index].lastUsed = now
            backoff.reset()
            // Requests the new connection cannot take (it is full, e.g. LDAP's per-connection cap) open
            // the next one, up to the pool size.
            growPending = true
            return .none
        case .connectionFailed(let id):
            growPending = true
            guard let index = index(of: id) else { return .none }  // closed already (shutdown)
            backoff.failed(startedAt: connections[index].openedAt, now: now, policy: policy)
            _ = removeConnection(at: index)
            return .closeConnection(id, .connectFailed, failing: nil)
        case .connectionClosed(let id):
            return drop(id)
        case .requestFinished(let id, let reusable):
            guard let index = index(of: id) else { return .none }
            guard reusable else { return drop(id) }
            connections[index].lastUsed = now
            switch connections[index].state {
            case .ready(let load): setState(index, .ready(load: max(0, load - 1)))
            case .draining: setState(index, .ready(load: 0))
            case .connecting: preconditionFailure("Invalid state: request finished on a connecting connection \(id)")
            }
            return .none
        case .sendFailed(let request, let id, let connectionLost, let isRetry):
            return sendFailed(request, on: id, connectionLost: connectionLost, isRetry: isRetry)
        case .requestCancelled(let requestID, let runningOn):
            return cancelled(requestID, runningOn: runningOn)
        case .timerFired(let id):
            guard let index = index(of: id), connections[index].state == .draining else { return .none }
            return drop(id)
        case .warmUp:
            if lifecycle == .running { warming = true }
            return .none
        case .maintenance:
            load.advance(now: now)
            refreshMeasuredConnections()
            if lifecycle == .running && policy.sizing != nil { retirePending = true }
            return .none
        case .shutdown:
            lifecycle = .shutDown
            growPending = false
            growIfAllBusyPending = false
            warming = false
            sweep = .shutdown
            return .none
        }
    }

    /// The next follow-up action, or ``Action/none`` when the pool has nothing left to do now.
    public mutating func nextAction(now: Deadline) -> Action {
        if lifecycle == .shutDown {
            if !connections.isEmpty {
                let id = removeConnection(at: 0).id
                return .closeConnection(id, .shutdown, failing: nil)
            }
            if let entry = queue.popFirst() { return .fail(entry.request, .shutdown) }
            return .none
        }
        // Hand queued requests to connections that can take them.
        if !queue.isEmpty, let index = leastLoadedReady() {
            let entry = queue.popFirst()!
            return lease(index, entry.request, isRetry: entry.retried, now: now)
        }
        if let failure = sweep {
            if let entry = queue.popFirst() { return .fail(entry.request, failure) }
            sweep = nil
        }
        if growIfAllBusyPending {
            growIfAllBusyPending = false
            if canOpen(now: now, waiting: policy.maxConcurrentConnects) { return openConnection(now: now) }
        }
        if growPending {
            growPending = false
            if !queue.isEmpty {
                // With sizing, a pipelined connection will carry several of the waiting requests.
                let perConnection = policy.sizing == nil ? 1 : policy.maxRequestsPerConnection
                let waiting = (queue.count + perConnection - 1) / perConnection
                if canOpen(now: now, waiting: waiting) { return openConnection(now: now) }
                if connections.isEmpty {
                    sweep = .notConnected(retryInMs: backoff.remainingMilliseconds(now: now))
                    return nextAction(now: now)
                }
            }
        }
        if warming {
            if connections.count < min(policy.warmUpConnections, policy.size) && !backoff.isRunning(now: now) {
                return openConnection(now: now)
            }
            warming = false
        }
        if retirePending {
            if let id = retireIdleExtra(now: now) { return .closeConnection(id, .retired, failing: nil) }
            retirePending = false
        }
        return .none
    }

    /// Removes one connection beyond ``targetConnections`` that has been idle for the sizing's idle
    /// timeout (the newest such one), if any.
    private mutating func retireIdleExtra(now: Deadline) -> PoolConnectionID? {
        guard let sizing = policy.sizing, sizing.idleTimeoutMs > 0, queue.isEmpty else { return nil }
        // The target without its floor of one: with db_pool_min_size 0 the last idle connection closes too.
        let perConnection = policy.maxRequestsPerConnection
        let wanted = min(policy.size, max(sizing.minConnections, measuredConnections,
                                          (demand + perConnection - 1) / perConnection))
        guard connections.count > wanted else { return nil }
        for index in connections.indices.reversed() {
            guard connections[index].state == .ready(load: 0),
                  connections[index].lastUsed.advanced(byMilliseconds: sizing.idleTimeoutMs) <= now else { continue }
            return removeConnection(at: index).id
        }
        return nil
    }

    // MARK: - Steps

    private mutating func requestArrived(_ request: Request, now: Deadline) -> Action {
        guard lifecycle == .running else { return .fail(request, .closed) }
        if policy.sizing != nil {
            load.arrived(now: now)
            refreshMeasuredConnections()
        }
        if let index = leastLoadedReady() {
            // Sharing a busy connection: open one more if the load wants it (without sizing: if allowed).
            if case .ready(let load) = connections[index].state, load > 0,
               connections.count < targetConnections { growIfAllBusyPending = true }
            return lease(index, request, isRetry: false, now: now)
        }
        if queue.count >= policy.maxQueue { return .reject(request) }
        queue.append(QueuedRequest(request: request, retried: false))
        growPending = true
        return .none
    }

    private mutating func sendFailed(_ request: Request, on id: PoolConnectionID, connectionLost: Bool,
                                     isRetry: Bool) -> Action {
        guard let index = index(of: id) else {
            return .fail(request, connectionLost ? .connectionLost : .refused)
        }
        if !connectionLost {
            if case .ready(let load) = connections[index].state {
                setState(index, .ready(load: max(0, load - 1)))
            }
            return .fail(request, .refused)
        }
        _ = removeConnection(at: index)
        // Others may wait: replace the connection (or fail them fast) either way.
        growPending = true
        if isRetry { return .closeConnection(id, .dropped, failing: request) }
        // Nothing reached the server: one more try, first in line.
        queue.prepend(QueuedRequest(request: request, retried: true))
        return .closeConnection(id, .dropped, failing: nil)
    }

    private mutating func cancelled(_ requestID: Request.ID, runningOn id: PoolConnectionID?) -> Action {
        guard let id else {
            queue.remove { $0.request.id == requestID }
            return .none
        }
        guard let index = index(of: id), case .ready(let load) = connections[index].state else { return .none }
        switch policy.abandon {
        case .keepConnection:
            setState(index, .ready(load: max(0, load - 1)))
            return .abandon(on: id)
        case .drain(let timeoutMs):
            setState(index, .draining)
            return .drain(id, timeoutMs: timeoutMs)
        case .closeConnection:
            return drop(id)
        }
    }

    /// An established connection leaves the pool (counted as dropped); the pool may grow again.
    private mutating func drop(_ id: PoolConnectionID) -> Action {
        guard let index = index(of: id) else { return .none }
        _ = removeConnection(at: index)
        growPending = true
        return .closeConnection(id, .dropped, failing: nil)
    }

    private mutating func lease(_ index: Int, _ request: Request, isRetry: Bool, now: Deadline) -> Action {
        guard case .ready(let load) = connections[index].state else {
            preconditionFailure("Invalid state: lease on \(connections[index])")
        }
        setState(index, .ready(load: load + 1))
        connections[index].lastUsed = now
        return .send(request, on: connections[index].id, isRetry: isRetry)
    }

    private mutating func openConnection(now: Deadline) -> Action {
        let id = PoolConnectionID(nextConnectionID)
        nextConnectionID += 1
        connections.append(Connection(id: id, state: .connecting, openedAt: now, lastUsed: now))
        return .openConnection(id)
    }

    /// Whether a connect may start now for `waiting` requests (room in the pool, fewer connects running
    /// than requests waiting and than the concurrency limit, no backoff running).
    private func canOpen(now: Deadline, waiting: Int) -> Bool {
        connections.count < policy.size && connectingCount < min(waiting, policy.maxConcurrentConnects)
            && !backoff.isRunning(now: now)
    }

    /// The ready connection with the fewest requests that can take one more (the first on a tie). With
    /// sizing, the first ``targetConnections`` ready connections come first, so extra ones fall idle.
    private func leastLoadedReady() -> Int? {
        connections.leastLoadedReady(maxRequests: policy.maxRequestsPerConnection,
                                     preferred: policy.sizing == nil ? Int.max : targetConnections)
    }

    private func index(of id: PoolConnectionID) -> Int? {
        connections.index(of: id)
    }
}

extension ConnectionPoolStateMachine: Sendable where Request: Sendable, Request.ID: Sendable {}
extension ConnectionPoolStateMachine.Event: Sendable where Request: Sendable, Request.ID: Sendable {}
extension ConnectionPoolStateMachine.Action: Sendable where Request: Sendable {}
extension ConnectionPoolStateMachine.Action: Equatable where Request: Equatable {}
extension ConnectionPoolStateMachine.QueuedRequest: Sendable where Request: Sendable {}
