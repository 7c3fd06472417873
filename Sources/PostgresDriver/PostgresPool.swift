import CLibPQ
import Reactor
import TandemAsync

/// A pool of non-blocking libpq connections to one database, owned by one SIP worker's ``Reactor``
/// (create one per worker; every call, callback and completion happens on that loop thread).
///
/// - Connections are opened on demand, up to ``PostgresPoolConfiguration/size``, with
///   `PQconnectStartParams` (host names pinned to `hostaddr`, see ``PostgresConnectionSettings``) and
///   driven by `PQconnectPoll` on socket readiness — the loop never blocks.
/// - A query takes an idle connection or waits in a bounded FIFO queue (full → rc -4).
/// - A connection that breaks (server killed/restarted, backend terminated, protocol error, left inside a
///   transaction) is closed and replaced on demand. Idle connections are watched, so a server-side close
///   is noticed before the next query. The first failed connect is retried at once (a restarted server
///   is back quickly); further failures start a short backoff (doubling, capped; attempts that were
///   already under way when a failure set the delay do not double it again); while no connection is
///   alive, queries fail at once with rc -1 instead of waiting — the next query after the backoff tries
///   again, so a server that was absent, killed or restarted is picked up by itself.
/// - With a ``BackendHealth`` the pool reports the server lost when a connect fails and nothing is
///   connected, and reachable again at the next connect (logged once per process, counted in `/stats`).
/// - An abandoned query (timeout / CANCEL) is cancelled per ``PostgresPoolConfiguration/CancelPolicy``;
///   the connection is never handed out again before it is idle.
public final class PostgresPool {
    /// Where the pool connects.
    public let settings: PostgresConnectionSettings
    /// Sizes and timeouts.
    public let configuration: PostgresPoolConfiguration
    /// The owning worker's reactor.
    public let reactor: Reactor
    /// The connections of the blocking form (`offload`/`sync` modes), shared by all workers.
    public let blocking: PostgresBlockingPool
    /// Counters (tests, metrics).
    public private(set) var statistics = PostgresPoolStatistics()

    private var connections: [PostgresConnection] = []
    private var queue: [PostgresRequest] = []
    private var queueHead = 0
    private var nextRequestID: UInt64 = 1
    private var backoffMs: UInt64 = 0
    private var retryAt: Deadline?
    /// Failed connect rounds since the last success, and when the last one set the delay.
    private var failedRounds = 0
    private var backoffSetAt: Deadline?
    /// Shared reachability of this database (nil: not reported).
    private let health: BackendHealth?
    private var lastConnectError = ""
    private var closed = false

    /// The delay before the next connect attempt after failures (0 when the next one goes at once).
    public var reconnectDelayMs: UInt64 { backoffMs }

    /// Creates an empty pool (no connection is opened until the first query, or ``warmUp()``).
    /// - Parameter blocking: the process-wide blocking pool for the same database (a private one if `nil`).
    public init(settings: PostgresConnectionSettings, reactor: Reactor,
                configuration: PostgresPoolConfiguration = PostgresPoolConfiguration(),
                blocking: PostgresBlockingPool? = nil, health: BackendHealth? = nil) {
        self.settings = settings
        self.blocking = blocking ?? PostgresBlockingPool(settings: settings)
        self.reactor = reactor
        self.configuration = configuration
        self.health = health
    }

    /// Parses `conninfo` (URL or `key=value` string) and creates the pool.
    public convenience init(conninfo: String, reactor: Reactor,
                            configuration: PostgresPoolConfiguration = PostgresPoolConfiguration(),
                            blocking: PostgresBlockingPool? = nil) throws(PostgresError) {
        self.init(settings: try PostgresConnectionSettings(conninfo), reactor: reactor, configuration: configuration,
                  blocking: blocking)
    }

    deinit {
        // Loop thread (the pool is loop-owned): release the registrations before the sockets close.
        for connection in connections {
            if let timer = connection.timer { reactor.cancel(timer) }
            if let registration = connection.registration { reactor.deregister(registration) }
            PQfinish(connection.conn)
        }
    }

    // MARK: - Gauges

    /// Connections open or opening.
    public var connectionCount: Int { connections.count }
    /// Connections ready for a query.
    public var idleConnectionCount: Int { connections.reduce(0) { $0 + ($1.phase == .idle ? 1 : 0) } }
    /// Connections still connecting.
    public var connectingCount: Int { connections.reduce(0) { $0 + ($1.phase == .connecting ? 1 : 0) } }
    /// Queries waiting for a connection.
    public var queuedCount: Int { queue.count - queueHead }
    /// The last connect error (empty if none yet).
    public var lastError: String { lastConnectError }

    // MARK: - Queries

    /// Runs `sql` with `parameters` bound as `$1…$n` (text; `nil` = SQL NULL). `completion` runs once on
    /// the loop thread with the result (possibly inside this call when the pool fails fast). Returns the
    /// request id (for ``abandon(_:)``), or `nil` if the queue is full — `completion` is then not called
    /// and the caller reports rc -4.
    @discardableResult
    public func submit(sql: String, parameters: [String?], completion: @escaping (AsyncResult) -> Void) -> UInt64? {
        let request = PostgresRequest(id: nextRequestID, sql: sql, parameters: parameters, completion: completion)
        nextRequestID += 1
        if closed {
            completion(Self.errorResult("postgres pool is closed"))
            return request.id
        }
        if let connection = connections.first(where: { $0.phase == .idle }) {
            send(request, on: connection)
            return request.id
        }
        if queuedCount >= configuration.maxQueue {
            statistics.queriesRejected += 1
            return nil
        }
        enqueue(request)
        growIfNeeded()
        return request.id
    }

    /// Gives up on a request (loop thread; its completion is not called): removed from the queue, or its
    /// connection is cancelled/drained or dropped per ``PostgresPoolConfiguration/cancelPolicy``.
    public func abandon(_ id: UInt64) {
        if let index = queue[queueHead...].firstIndex(where: { $0.id == id }) {
            queue.remove(at: index)
            return
        }
        guard let connection = connections.first(where: { $0.phase == .busy && $0.request?.id == id }) else { return }
        connection.request = nil
        switch configuration.cancelPolicy {
        case .dropConnection:
            drop(connection)
            growIfNeeded()
        case .cancelRequest:
            connection.phase = .draining
            if let cancel = PostgresCancelRequest(connection: connection.conn) {
                statistics.cancelRequests += 1
                cancel.send()
            }
            connection.timer = reactor.schedule(afterMilliseconds: configuration.drainTimeoutMs) { [weak self, weak connection] in
                guard let self, let connection, connection.phase == .draining else { return }
                connection.timer = nil
                self.drop(connection)
                self.growIfNeeded()
            }
            setInterest(connection, connection.flushing ? .readWrite : .read)
        }
    }

    /// Opens connections up to the pool size now (optional; they open on demand otherwise).
    public func warmUp() {
        while !closed && connections.count < configuration.size && !inBackoff { openConnection() }
    }

    /// Closes every connection and fails the queued requests with rc -1 (worker shutdown).
    public func close() {
        closed = true
        for connection in connections {
            if let request = connection.request {
                connection.request = nil
                request.completion(Self.errorResult("postgres pool closed"))
            }
            drop(connection, counted: false)
        }
        failQueued("postgres pool closed")
    }

    // MARK: - Queue

    private func enqueue(_ request: PostgresRequest, atFront: Bool = false) {
        if atFront {
            queue.insert(request, at: queueHead)
        } else {
            queue.append(request)
        }
    }

    private func dequeue() -> PostgresRequest? {
        guard queueHead < queue.count else { return nil }
        let request = queue[queueHead]
        queueHead += 1
        if queueHead >= 64 && queueHead * 2 >= queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        return request
    }

    private func failQueued(_ message: String) {
        while let request = dequeue() {
            statistics.queriesFailedFast += 1
            request.completion(Self.errorResult(message))
        }
    }

    /// Hands the next queued request to an idle connection.
    private func dispatch(_ connection: PostgresConnection) {
        guard connection.phase == .idle, let request = dequeue() else { return }
        send(request, on: connection)
    }

    // MARK: - Connecting

    private var inBackoff: Bool {
        guard let retryAt else { return false }
        return reactor.now < retryAt
    }

    /// Opens a connection when requests wait and the pool may grow; fails them at once when nothing can
    /// serve them (no live connection and the reconnect delay is running).
    private func growIfNeeded() {
        guard !closed, queuedCount > 0 else { return }
        let opening = connectingCount
        if connections.count < configuration.size && opening < queuedCount && !inBackoff {
            openConnection()
            return
        }
        if connections.isEmpty {
            let wait = retryAt.map { reactor.now < $0 ? $0.nanoseconds - reactor.now.nanoseconds : 0 } ?? 0
            failQueued("not connected (retry in \(wait / 1_000_000) ms): \(lastConnectError)")
        }
    }

    private func openConnection() {
        statistics.connectAttempts += 1
        let conn = settings.withParameters { keywords, values in PQconnectStartParams(keywords, values, 0) }
        guard let conn else {
            connectFailed(nil, message: "out of memory")
            return
        }
        // Server notices (e.g. the FATAL before an administrator disconnect) are not written to stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        let connection = PostgresConnection(conn: conn, startedAt: reactor.now)
        connections.append(connection)
        if PQstatus(conn) == CONNECTION_BAD {
            connectFailed(connection, message: connection.errorMessage)
            return
        }
        connection.timer = reactor.schedule(afterMilliseconds: configuration.connectTimeoutMs) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .connecting else { return }
            connection.timer = nil
            self.connectFailed(connection, message: "connect timeout after \(self.configuration.connectTimeoutMs) ms")
        }
        // Right after PQconnectStart libpq waits for writability (the TCP connect).
        updateSocket(connection, interest: .write)
    }

    private func continueConnecting(_ connection: PostgresConnection) {
        connection.connectPolls += 1
        let state = PQconnectPoll(connection.conn)
        if state == PGRES_POLLING_OK {
            connected(connection)
        } else if state == PGRES_POLLING_READING {
            updateSocket(connection, interest: .read)
        } else if state == PGRES_POLLING_WRITING {
            updateSocket(connection, interest: .write)
        } else {
            connectFailed(connection, message: connection.errorMessage)
        }
    }

    private func connected(_ connection: PostgresConnection) {
        cancelTimer(connection)
        if PQsetnonblocking(connection.conn, 1) != 0 {
            connectFailed(connection, message: "PQsetnonblocking: \(connection.errorMessage)")
            return
        }
        statistics.connectsSucceeded += 1
        statistics.lastConnectPolls = connection.connectPolls
        statistics.lastConnectMicroseconds = connection.startedAt.nanoseconds(until: reactor.now) / 1000
        backoffMs = 0
        retryAt = nil
        failedRounds = 0
        backoffSetAt = nil
        health?.reachable()
        connection.phase = .idle
        updateSocket(connection, interest: .read)
        dispatch(connection)
    }

    private func connectFailed(_ connection: PostgresConnection?, message: String) {
        statistics.connectFailures += 1
        lastConnectError = message
        let startedAt = connection?.startedAt ?? reactor.now
        if let connection { drop(connection, counted: false) }
        // An attempt started before the last failure set the delay belongs to that round: no doubling.
        if backoffSetAt.map({ startedAt >= $0 }) ?? true {
            failedRounds += 1
            if failedRounds == 1 {
                backoffMs = 0   // the first retry goes at once
                retryAt = nil
            } else {
                backoffMs = backoffMs == 0 ? configuration.initialBackoffMs : min(backoffMs * 2, configuration.maxBackoffMs)
                retryAt = reactor.now.advanced(byMilliseconds: backoffMs)
            }
            backoffSetAt = reactor.now
        }
        if !connections.contains(where: { $0.phase != .connecting }) {
            health?.lost(message)
        }
        growIfNeeded()
    }

    // MARK: - Running queries

    private func send(_ request: PostgresRequest, on connection: PostgresConnection) {
        statistics.queriesSent += 1
        connection.phase = .busy
        connection.request = request
        connection.collector = PostgresResultCollector()
        let sent = withCStringArray(request.parameters) { values in
            PQsendQueryParams(connection.conn, request.sql, Int32(request.parameters.count), nil,
                              request.parameters.isEmpty ? nil : values, nil, nil, 0)
        }
        if sent == 0 {
            let message = connection.errorMessage
            let dead = connection.isBad
            connection.request = nil
            if dead {
                // Nothing reached the server: retry once on another connection.
                drop(connection)
                if !request.retried {
                    request.retried = true
                    enqueue(request, atFront: true)
                    growIfNeeded()
                    return
                }
            } else {
                connection.phase = .idle
            }
            request.completion(Self.errorResult(message))
            if connection.phase == .idle { dispatch(connection) }
            return
        }
        flush(connection)
    }

    /// Pushes queued output; watches writability while some is left.
    private func flush(_ connection: PostgresConnection) {
        switch PQflush(connection.conn) {
        case 0:
            connection.flushing = false
            setInterest(connection, .read)
        case 1:
            connection.flushing = true
            setInterest(connection, .readWrite)
        default:
            connection.flushing = false
            connection.collector.fail(connection.errorMessage)
            finishStatement(connection)
        }
    }

    /// Readiness on a connection's socket, whatever its phase.
    private func ready(_ connection: PostgresConnection, _ events: ReadyEvents) {
        switch connection.phase {
        case .connecting:
            continueConnecting(connection)
        case .idle:
            // Nothing is expected: a notice, or the server closing the connection.
            if PQconsumeInput(connection.conn) == 0 || connection.isBad {
                drop(connection)
                growIfNeeded()
                return
            }
            while let notify = PQnotifies(connection.conn) { PQfreemem(notify) }
        case .closed:
            return
        case .busy, .draining:
            if connection.flushing && events.contains(.writable) {
                flush(connection)
                if connection.phase != .busy && connection.phase != .draining { return }
            }
            if events.contains(.readable) || events.contains(.error) || events.contains(.hangup) {
                if connection.readResults() { finishStatement(connection) }
            }
        }
    }

    /// The statement on `connection` is over: report it (unless abandoned) and recycle the connection.
    private func finishStatement(_ connection: PostgresConnection) {
        cancelTimer(connection)
        let request = connection.request
        connection.request = nil
        let result = connection.collector.result()
        connection.collector = PostgresResultCollector()
        if connection.isReusable && !connection.flushing {
            connection.phase = .idle
            setInterest(connection, .read)
        } else {
            drop(connection)
        }
        request?.completion(result)
        if connection.phase == .idle, connections.contains(where: { $0 === connection }) {
            dispatch(connection)
        } else {
            growIfNeeded()
        }
    }

    // MARK: - Sockets and teardown

    /// Registers the connection's current socket (libpq may switch sockets while connecting).
    private func updateSocket(_ connection: PostgresConnection, interest: Interest) {
        let fd = PQsocket(connection.conn)
        if fd != connection.fd, let registration = connection.registration {
            reactor.deregister(registration)
            connection.registration = nil
        }
        connection.fd = fd
        guard fd >= 0 else {
            connectFailed(connection, message: "no socket: \(connection.errorMessage)")
            return
        }
        if connection.registration == nil {
            do {
                connection.registration = try reactor.register(fd: fd, interest: interest) { [weak self, weak connection] events in
                    if let self, let connection { self.ready(connection, events) }
                }
                connection.interest = interest
            } catch {
                connectFailed(connection, message: "cannot watch socket: \(error)")
            }
        } else {
            setInterest(connection, interest)
        }
    }

    private func setInterest(_ connection: PostgresConnection, _ interest: Interest) {
        guard let registration = connection.registration, connection.interest != interest else { return }
        do {
            try reactor.modify(registration, interest: interest)
            connection.interest = interest
        } catch {
            drop(connection)
        }
    }

    private func cancelTimer(_ connection: PostgresConnection) {
        if let timer = connection.timer {
            reactor.cancel(timer)
            connection.timer = nil
        }
    }

    /// Closes a connection and removes it from the pool. A request still on it fails with rc -1.
    private func drop(_ connection: PostgresConnection, counted: Bool = true) {
        guard let index = connections.firstIndex(where: { $0 === connection }) else { return }
        connections.remove(at: index)
        if counted { statistics.connectionsDropped += 1 }
        cancelTimer(connection)
        if let registration = connection.registration {
            reactor.deregister(registration)
            connection.registration = nil
        }
        let request = connection.request
        connection.request = nil
        if let request {
            var collector = connection.collector
            collector.fail(connection.errorMessage)
            request.completion(collector.result())
        }
        PQfinish(connection.conn)
        connection.phase = .closed
    }

    static func errorResult(_ message: String) -> AsyncResult {
        AsyncResult(rc: AsyncResult.rcError, outputs: [AsyncOutput("error", .string(message))])
    }
}
