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
/// - With ``PostgresPoolConfiguration/sizesFromLoad`` (the default) the pool measures query latency and
///   arrival rate and keeps about rate × latency × 1.5 ÷ pipeline depth connections (within
///   ``PostgresPoolConfiguration/minConnections`` … ``PostgresPoolConfiguration/size``): a query shares a
///   busy connection (pipelines deeper) while the open ones carry the load, a new one opens when they do
///   not, and extra connections idle for ``PostgresPoolConfiguration/idleTimeoutMs`` close (checked by a
///   timer while more than the minimum are open).
///
/// The pool decisions (which connection, queue, backoff, fail-fast, abandon, shutdown) are made by a
/// ``ConnectionPoolStateMachine`` shared with the LDAP driver; this class feeds it events and executes
/// its actions with libpq and the reactor.
public final class PostgresPool: ConnectionPoolShell {
    package typealias Machine = ConnectionPoolStateMachine<PostgresRequest>

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

    package var machine: Machine
    package var now: Deadline { reactor.now }
    private var connections: [PoolConnectionID: PostgresConnection] = [:]
    private var nextRequestID: UInt64 = 1
    /// Shared reachability of this database (nil: not reported).
    private let health: BackendHealth?
    private var lastConnectError = ""
    /// The periodic sizing check (armed while more than the minimum connections are open).
    private var maintenanceTimer: TimerID?

    /// The delay before the next connect attempt after failures (0 when the next one goes at once).
    public var reconnectDelayMs: UInt64 { machine.reconnectDelayMs }

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
        self.machine = Machine(policy: configuration.poolPolicy)
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
        if let timer = maintenanceTimer { reactor.cancel(timer) }
        for connection in connections.values {
            if let timer = connection.timer { reactor.cancel(timer) }
            if let poll = connection.cancelPoll { reactor.cancel(poll) }
            if let registration = connection.registration { reactor.deregister(registration) }
            PQfinish(connection.conn)
        }
    }

    // MARK: - Gauges

    /// Connections open or opening.
    public var connectionCount: Int { machine.connectionCount }
    /// Connections ready for a query.
    public var idleConnectionCount: Int { machine.idleCount }
    /// Connections still connecting.
    public var connectingCount: Int { machine.connectingCount }
    /// Queries waiting for a connection.
    public var queuedCount: Int { machine.queuedCount }
    /// The connections the measured load wants now (``PostgresPoolConfiguration/size`` without sizing).
    public var targetConnectionCount: Int { machine.targetConnections }
    /// The measured query latency (smoothed, nanoseconds; 0 before the first answer).
    public var measuredLatencyNanoseconds: Double { machine.load.latencyNanoseconds }
    /// The measured arrival rate (smoothed, queries per second).
    public var measuredArrivalsPerSecond: Double { machine.load.arrivalsPerSecond }
    /// The last connect error (empty if none yet).
    public var lastError: String { lastConnectError }
    /// Why ``submit(sql:parameters:completion:)`` refused a query: the queue is at its bound while every
    /// ready connection is busy (the `error` output of the rc -4, so the log says which limit was hit).
    public var queueFullReason: String {
        "postgres pool queue is full: \(queuedCount) queries wait (db_queue \(configuration.maxQueue)), "
            + "\(connectionCount - connectingCount) of \(configuration.size) connections busy (db_pool_size), "
            + "\(connectingCount) connecting"
    }

    // MARK: - Queries

    /// Runs `sql` with `parameters` bound as `$1…$n` (text; `nil` = SQL NULL). `completion` runs once on
    /// the loop thread with the result (possibly inside this call when the pool fails fast). Returns the
    /// request id (for ``abandon(_:)``), or `nil` if the queue is full — `completion` is then not called
    /// and the caller reports rc -4.
    @discardableResult
    public func submit(sql: String, parameters: [String?], completion: @escaping (AsyncResult) -> Void) -> UInt64? {
        let request = PostgresRequest(id: nextRequestID, sql: sql, parameters: parameters, completion: completion)
        nextRequestID += 1
        let action = machine.handle(.requestArrived(request), now: reactor.now)
        if case .reject = action {
            statistics.queriesRejected += 1
            return nil
        }
        run(action)
        return request.id
    }

    /// Gives up on a request (loop thread; its completion is not called): removed from the queue, or its
    /// connection is cancelled/drained or dropped per ``PostgresPoolConfiguration/cancelPolicy``.
    ///
    /// In a pipeline (``PostgresPoolConfiguration/pipelineDepth`` > 1) a query that shares its connection
    /// with others is only forgotten: no cancel request (it would stop whichever statement the server runs
    /// at that moment, maybe another request's), its results are read and discarded when they arrive, and
    /// the statements behind it go on. Alone on its connection it is cancelled or dropped as above: no
    /// other statement is sent there until it is over and the cancel request has gone out, so the cancel
    /// request can only hit it.
    public func abandon(_ id: UInt64) {
        guard let running = connections.values.first(where: { $0.phase == .busy && $0.statement(for: id) != nil }),
              let statement = running.statement(for: id) else {
            feed(.requestCancelled(id, runningOn: nil))
            return
        }
        statement.request = nil
        if running.inFlight.count == 1 {
            feed(.requestCancelled(id, runningOn: running.id))
        } else {
            statistics.abandonedInPipeline += 1
        }
    }

    /// Starts opening ``PostgresPoolConfiguration/minConnections`` connections now, in the background on
    /// the reactor (non-blocking connects; returns at once). A worker calls it when it starts, so its first
    /// queries find a connection instead of waiting for one to open; more open on demand as before.
    /// A failed connect is logged through ``BackendHealth`` and counted like any other: the pool does not
    /// retry it by itself, the next query connects (after the backoff).
    public func warmUp() {
        feed(.warmUp)
    }

    /// Closes every connection and fails the queued requests with rc -1 (worker shutdown).
    public func close() {
        if let timer = maintenanceTimer {
            reactor.cancel(timer)
            maintenanceTimer = nil
        }
        feed(.shutdown)
    }

    /// Arms the periodic sizing check if extra connections could close.
    private func armMaintenance() {
        guard maintenanceTimer == nil, configuration.sizesFromLoad, configuration.idleTimeoutMs > 0,
              machine.connectionCount > configuration.minConnections else { return }
        let interval = min(max(configuration.idleTimeoutMs / 4, 50), 1000)
        maintenanceTimer = reactor.schedule(afterMilliseconds: interval) { [weak self] in
            guard let self else { return }
            self.maintenanceTimer = nil
            self.feed(.maintenance)
            self.armMaintenance()
        }
    }

    // MARK: - Executing the state machine's actions

    package func execute(_ action: Machine.Action) {
        switch action {
        case .none:
            return
        case .openConnection(let id):
            openConnection(id)
        case .send(let request, let id, let isRetry):
            guard let connection = connections[id] else {
                preconditionFailure("Invalid state: send on unknown \(id)")
            }
            send(request, on: connection, isRetry: isRetry)
        case .reject(let request):
            statistics.queriesRejected += 1
            request.completion(AsyncResult.rejected(reason: "postgres pool queue is full"))
        case .fail(let request, let failure):
            request.completion(Self.errorResult(failureMessage(failure)))
        case .closeConnection(let id, let reason, let failing):
            closeConnection(id, reason: reason)
            failing?.completion(Self.errorResult(failureMessage(.connectionLost)))
        case .abandon:
            return  // not used: a query alone on its connection is drained or dropped, in a pipeline discarded
        case .drain(let id, let timeoutMs):
            guard let connection = connections[id] else { return }
            drain(connection, timeoutMs: timeoutMs)
        }
    }

    private func failureMessage(_ failure: ConnectionPoolFailure) -> String {
        let (message, failedFast) = Self.failureText(failure, driver: "postgres", sendFailure: "postgres send failed",
                                                     lastConnectError: lastConnectError)
        if failedFast { statistics.queriesFailedFast += 1 }
        return message
    }

    // MARK: - Connecting

    private func openConnection(_ id: PoolConnectionID) {
        statistics.connectAttempts += 1
        let conn = settings.withParameters { keywords, values in PQconnectStartParams(keywords, values, 0) }
        guard let conn else {
            connectFailed(id, message: "out of memory")
            return
        }
        // Server notices (e.g. the FATAL before an administrator disconnect) are not written to stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        let connection = PostgresConnection(id: id, conn: conn, startedAt: reactor.now)
        connections[id] = connection
        if PQstatus(conn) == CONNECTION_BAD {
            connectFailed(id, message: connection.errorMessage)
            return
        }
        connection.timer = reactor.schedule(afterMilliseconds: configuration.connectTimeoutMs) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .connecting else { return }
            connection.timer = nil
            self.connectFailed(connection.id, message: "connect timeout after \(self.configuration.connectTimeoutMs) ms")
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
            connectFailed(connection.id, message: connection.errorMessage)
        }
    }

    private func connected(_ connection: PostgresConnection) {
        cancelTimer(connection)
        if PQsetnonblocking(connection.conn, 1) != 0 {
            connectFailed(connection.id, message: "PQsetnonblocking: \(connection.errorMessage)")
            return
        }
        if configuration.pipelineDepth > 1 {
            if PQenterPipelineMode(connection.conn) != 1 {
                connectFailed(connection.id, message: "PQenterPipelineMode: \(connection.errorMessage)")
                return
            }
            connection.pipelined = true
        }
        statistics.connectsSucceeded += 1
        statistics.lastConnectPolls = connection.connectPolls
        statistics.lastConnectMicroseconds = connection.startedAt.nanoseconds(until: reactor.now) / 1000
        health?.reachable()
        connection.phase = .idle
        updateSocket(connection, interest: .read)
        guard connection.phase == .idle else { return }  // the socket could not be watched
        feed(.connectionEstablished(connection.id))
        armMaintenance()
    }

    /// A connect failed (or an established connection lost its socket registration): the machine starts
    /// the backoff and decides whether queued requests wait for another connect or fail at once.
    private func connectFailed(_ id: PoolConnectionID, message: String) {
        statistics.connectFailures += 1
        lastConnectError = message
        feed(.connectionFailed(id))
        // Nothing connected any more (only attempts under way): the database is lost for this pool.
        if machine.connectionCount == machine.connectingCount { health?.lost(message) }
    }

    // MARK: - Running queries

    private func send(_ request: PostgresRequest, on connection: PostgresConnection, isRetry: Bool) {
        statistics.queriesSent += 1
        let statement = PostgresConnection.Statement(request: request, sentAt: reactor.now)
        var sent: Int32
        if configuration.preparesStatements, let name = connection.prepared[request.sql] {
            statement.preparedName = name
            sent = sendPrepared(name, request.parameters, on: connection)
        } else if configuration.preparesStatements && connection.prepared.count < configuration.maxPreparedStatements
                    && connection.seenOnce.remove(request.sql) != nil {
            // Second use of this text here: prepare it (then run it, in the same pipeline or once prepared).
            connection.preparedCount += 1
            let name = "tandem_\(connection.preparedCount)"
            sent = PQsendPrepare(connection.conn, name, request.sql, Int32(request.parameters.count), nil)
            if sent != 0 {
                statistics.statementsPrepared += 1
                connection.prepared[request.sql] = name
                statement.preparedName = name
                statement.preparing = true
                if connection.pipelined { sent = sendPrepared(name, request.parameters, on: connection) }
            }
        } else {
            if configuration.preparesStatements && connection.prepared.count < configuration.maxPreparedStatements {
                if connection.seenOnce.count >= 256 { connection.seenOnce.removeAll(keepingCapacity: true) }
                connection.seenOnce.insert(request.sql)
            }
            sent = withCStringArray(request.parameters) { values in
                PQsendQueryParams(connection.conn, request.sql, Int32(request.parameters.count), nil,
                                  request.parameters.isEmpty ? nil : values, nil, nil, 0)
            }
        }
        if sent != 0 {
            connection.inFlight.append(statement)
            connection.phase = .busy
            // Its own sync point: an error aborts this statement only, not the ones sent after it.
            if connection.pipelined && PQpipelineSync(connection.conn) == 0 {
                failAll(connection, message: "PQpipelineSync: \(connection.errorMessage)")
                return
            }
        } else {
            let message = connection.errorMessage
            let dead = connection.isBad
            if !dead && connection.inFlight.isEmpty { connection.phase = .idle }
            // Dead: nothing reached the server, the machine re-queues it once (for another connection).
            let event = Machine.Event.sendFailed(request, on: connection.id, connectionLost: dead, isRetry: isRetry)
            switch machine.handle(event, now: reactor.now) {
            case .fail(let failed, _):
                failed.completion(Self.errorResult(message))
            case .closeConnection(let id, let reason, let failing):
                closeConnection(id, reason: reason)
                failing?.completion(Self.errorResult(message))
            case let other:
                execute(other)
            }
            return
        }
        flush(connection)
    }

    /// Sends the execution of prepared statement `name` with `parameters`.
    private func sendPrepared(_ name: String, _ parameters: [String?], on connection: PostgresConnection) -> Int32 {
        withCStringArray(parameters) { values in
            PQsendQueryPrepared(connection.conn, name, Int32(parameters.count), parameters.isEmpty ? nil : values,
                                nil, nil, 0)
        }
    }

    /// Without a pipeline: the head statement's text is prepared; sends the statement itself (its request
    /// abandoned meanwhile: it is over instead).
    private func runPrepared(_ connection: PostgresConnection) {
        guard let head = connection.inFlight.first, let name = head.preparedName else { return }
        guard let request = head.request, connection.phase == .busy else {
            finishStatement(connection)
            return
        }
        if sendPrepared(name, request.parameters, on: connection) == 0 {
            failAll(connection, message: connection.errorMessage)
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
            failAll(connection, message: connection.errorMessage)
        }
    }

    /// Cancels the abandoned query on `connection` and reads until the connection is idle (or the drain
    /// timer gives up on it).
    private func drain(_ connection: PostgresConnection, timeoutMs: UInt64) {
        connection.phase = .draining
        if let cancel = PostgresCancelRequest(connection: connection.conn) {
            statistics.cancelRequests += 1
            connection.pendingCancel = cancel.progress
            cancel.send()
        }
        connection.timer = reactor.schedule(afterMilliseconds: timeoutMs) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .draining else { return }
            connection.timer = nil
            self.self.feed(.timerFired(connection.id))
        }
        setInterest(connection, connection.flushing ? .readWrite : .read)
    }

    /// Readiness on a connection's socket, whatever its phase.
    private func ready(_ connection: PostgresConnection, _ events: ReadyEvents) {
        switch connection.phase {
        case .connecting:
            continueConnecting(connection)
        case .idle:
            // Nothing is expected: a notice, or the server closing the connection.
            if PQconsumeInput(connection.conn) == 0 || connection.isBad {
                dropConnection(connection)
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
                guard connection.consumeInput() else {
                    failAll(connection, message: connection.errorMessage)
                    return
                }
                readResults(connection)
            }
        }
    }

    /// Completes the statements of `connection` whose results are all read, oldest first.
    private func readResults(_ connection: PostgresConnection) {
        while connection.phase == .busy || connection.phase == .draining {
            switch connection.step() {
            case .wait:
                return
            case .finished:
                finishStatement(connection)
            case .prepared:
                runPrepared(connection)
            case .broken(let message):
                failAll(connection, message: message)
                return
            }
        }
    }

    /// The oldest statement on `connection` is over: report it (unless abandoned) and, once nothing is in
    /// flight, recycle the connection.
    private func finishStatement(_ connection: PostgresConnection) {
        let statement = connection.inFlight.removeFirst()
        let result = statement.collector.result()
        // The server lost the statement (26000, e.g. a pooler's DISCARD ALL) or its plan no longer fits
        // (0A000 "cached plan must not change result type": a table changed under a `SELECT *`): prepare
        // the text anew, and run the request again once (unprepared, it would have run).
        var again: PostgresRequest?
        if let name = statement.preparedName, let state = statement.collector.errorState,
           state == "26000" || state == "0A000" {
            connection.forget(name)
            if let request = statement.request, !request.replanned {
                request.replanned = true
                statement.request = nil
                again = request
            }
        }
        if statement.request != nil {
            machine.recordLatency(nanoseconds: statement.sentAt.nanoseconds(until: reactor.now))
        }
        if !connection.inFlight.isEmpty {
            execute(machine.handle(.requestFinished(connection.id, reusable: !connection.isBad), now: reactor.now))
        } else if connection.phase == .draining, let progress = connection.pendingCancel, !progress.isDone,
                  !connection.isBad {
            // The statement ended before its cancel request went out: that request could still stop the
            // next statement sent here, so the connection serves again only once it is sent.
            waitForCancel(connection)
        } else {
            connectionDone(connection)
        }
        if let again {
            let action = machine.handle(.requestArrived(again), now: reactor.now)
            if case .reject = action {
                statistics.queriesRejected += 1
                again.completion(result)
            } else {
                run(action)
            }
            return
        }
        statement.request?.completion(result)
        run(.none)
    }

    /// Nothing is in flight on `connection` any more: it serves again (or is dropped if not reusable).
    private func connectionDone(_ connection: PostgresConnection) {
        cancelTimer(connection)
        connection.pendingCancel = nil
        let reusable = connection.isReusable && !connection.flushing
        if reusable {
            connection.phase = .idle
            setInterest(connection, .read)
        }
        execute(machine.handle(.requestFinished(connection.id, reusable: reusable), now: reactor.now))
    }

    /// Polls the drain's cancel thread (every 2 ms, bounded by the drain timer) until it has sent its request.
    private func waitForCancel(_ connection: PostgresConnection) {
        connection.cancelPoll = reactor.schedule(afterMilliseconds: 2) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .draining else { return }
            connection.cancelPoll = nil
            if connection.pendingCancel?.isDone == false {
                self.waitForCancel(connection)
                return
            }
            self.connectionDone(connection)
            self.run(.none)
        }
    }

    /// The connection broke with statements in flight: each fails with `message` (unless it already has
    /// the server's error) and the machine closes the connection (rc -1 for all of them).
    private func failAll(_ connection: PostgresConnection, message: String) {
        for statement in connection.inFlight { statement.collector.fail(message) }
        dropConnection(connection)
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
            connectFailed(connection.id, message: "no socket: \(connection.errorMessage)")
            return
        }
        if connection.registration == nil {
            do {
                connection.registration = try reactor.register(fd: fd, interest: interest) { [weak self, weak connection] events in
                    if let self, let connection { self.ready(connection, events) }
                }
                connection.interest = interest
            } catch {
                connectFailed(connection.id, message: "cannot watch socket: \(error)")
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
            dropConnection(connection)
        }
    }

    private func cancelTimer(_ connection: PostgresConnection) {
        if let timer = connection.timer {
            reactor.cancel(timer)
            connection.timer = nil
        }
    }

    /// An established connection broke: the machine closes it (its request fails) and may replace it.
    private func dropConnection(_ connection: PostgresConnection) {
        feed(.connectionClosed(connection.id))
    }

    /// Closes a connection the machine has removed. A request still on it fails with rc -1.
    private func closeConnection(_ id: PoolConnectionID, reason: ConnectionPoolCloseReason) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        if reason == .dropped { statistics.connectionsDropped += 1 }
        if reason == .retired { statistics.connectionsRetired += 1 }
        cancelTimer(connection)
        if let poll = connection.cancelPoll {
            reactor.cancel(poll)
            connection.cancelPoll = nil
        }
        if let registration = connection.registration {
            reactor.deregister(registration)
            connection.registration = nil
        }
        let statements = connection.inFlight
        connection.inFlight = []
        var failures: [(PostgresRequest, AsyncResult)] = []
        for statement in statements {
            guard let request = statement.request else { continue }
            if reason == .shutdown {
                failures.append((request, Self.errorResult("postgres pool closed")))
            } else {
                statement.collector.fail(connection.errorMessage)
                failures.append((request, statement.collector.result()))
            }
        }
        PQfinish(connection.conn)
        connection.phase = .closed
        for (request, failure) in failures { request.completion(failure) }
    }

    static func errorResult(_ message: String) -> AsyncResult {
        AsyncResult(rc: AsyncResult.rcError, outputs: [AsyncOutput("error", .string(message))])
    }
}

extension PostgresPoolConfiguration {
    /// The shared pool machine's rules for PostgreSQL: up to ``pipelineDepth`` queries per connection
    /// (the least loaded ready connection first), parallel connects up to the pool size, warm-up to
    /// ``minConnections`` (what idle retirement keeps), abandon of a query alone on its connection = drain after a cancel request or drop.
    var poolPolicy: ConnectionPoolPolicy {
        ConnectionPoolPolicy(size: size, maxQueue: maxQueue, maxRequestsPerConnection: pipelineDepth,
                             maxConcurrentConnects: size,
                             warmUpConnections: minConnections, initialBackoffMs: initialBackoffMs, maxBackoffMs: maxBackoffMs,
                             abandon: cancelPolicy == .cancelRequest ? .drain(timeoutMs: drainTimeoutMs) : .closeConnection,
                             sizing: sizesFromLoad ? LoadSizing(minConnections: minConnections, idleTimeoutMs: idleTimeoutMs) : nil)
    }
}
