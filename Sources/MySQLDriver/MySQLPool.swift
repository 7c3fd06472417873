import CMariaDB
import Glibc
import Reactor
import TandemAsync

/// A pool of non-blocking MariaDB Connector/C connections to one database, owned by one SIP worker's
/// ``Reactor`` (create one per worker; every call, callback and completion happens on that loop thread).
///
/// - Every library call is the non-blocking form (`mysql_real_connect_start/_cont`,
///   `mysql_real_query_start/_cont` + `mysql_store_result_start/_cont` for a statement without values,
///   `mysql_stmt_prepare/execute/store_result_start/_cont` for one with values); when a call suspends,
///   the pool waits on the socket for what it asks (read/write) and on a reactor timer for the timeout it
///   asks, then calls the `_cont`. The loop never blocks.
/// - Values are bound parameters of a prepared statement (cached per connection by SQL text), never text.
/// - A query takes an idle connection or waits in a bounded FIFO queue (full → rc -4).
/// - A connection that breaks (server killed/restarted, connection killed, left inside a transaction) is
///   closed and replaced on demand; idle connections are watched, so a server-side close is noticed before
///   the next query. Failed connects start a short backoff (doubling, capped) during which queries fail at
///   once with rc -1 instead of waiting; the next query after the backoff tries again.
/// - An abandoned query (timeout / CANCEL) is stopped with `KILL QUERY` on a side connection (per
///   ``MySQLPoolConfiguration/CancelPolicy``) and its connection is closed; the pool reconnects on demand.
///
/// The pool decisions are made by the shared ``ConnectionPoolStateMachine``; this class feeds it events
/// and executes its actions with the client library and the reactor.
public final class MySQLPool: ConnectionPoolShell {
    package typealias Machine = ConnectionPoolStateMachine<MySQLRequest>

    /// Where the pool connects.
    public let settings: MySQLConnectionSettings
    /// Sizes and timeouts.
    public let configuration: MySQLPoolConfiguration
    /// The owning worker's reactor.
    public let reactor: Reactor
    /// The connections of the blocking form (`offload`/`sync` modes), shared by all workers.
    public let blocking: MySQLBlockingPool
    /// Counters (tests, metrics).
    public private(set) var statistics = MySQLPoolStatistics()

    package var machine: Machine
    package var now: Deadline { reactor.now }
    private var connections: [PoolConnectionID: MySQLConnection] = [:]
    private var nextRequestID: UInt64 = 1
    private let health: BackendHealth?
    private var lastConnectError = ""

    /// Creates an empty pool (no connection is opened until the first query, or ``warmUp()``).
    /// - Parameter blocking: the process-wide blocking pool for the same database (a private one if `nil`).
    public init(settings: MySQLConnectionSettings, reactor: Reactor,
                configuration: MySQLPoolConfiguration = MySQLPoolConfiguration(),
                blocking: MySQLBlockingPool? = nil, health: BackendHealth? = nil) {
        ignoreSIGPIPE()
        self.settings = settings
        self.blocking = blocking ?? MySQLBlockingPool(settings: settings)
        self.reactor = reactor
        self.configuration = configuration
        self.health = health
        self.machine = Machine(policy: configuration.poolPolicy)
    }

    deinit {
        for connection in connections.values {
            if let timer = connection.timer { reactor.cancel(timer) }
            if let timer = connection.libraryTimer { reactor.cancel(timer) }
            if let registration = connection.registration { reactor.deregister(registration) }
            connection.close()
        }
    }

    // MARK: - Gauges

    /// Connections open or opening.
    public var connectionCount: Int { machine.connectionCount }
    /// Connections ready for a query.
    public var idleConnectionCount: Int { machine.idleCount }
    /// Queries waiting for a connection.
    public var queuedCount: Int { machine.queuedCount }
    /// The delay before the next connect attempt after failures.
    public var reconnectDelayMs: UInt64 { machine.reconnectDelayMs }
    /// The last connect error (empty if none yet).
    public var lastError: String { lastConnectError }

    // MARK: - Queries

    /// Runs `statement` with `values` (indexed as its `$1…$n`; `nil` = SQL NULL) bound as parameters.
    /// `completion` runs once on the loop thread (possibly inside this call when the pool fails fast).
    /// Returns the request id (for ``abandon(_:)``), or `nil` if the queue is full — `completion` is then
    /// not called and the caller reports rc -4.
    @discardableResult
    public func submit(_ statement: MySQLStatementText, values: [String?],
                       completion: @escaping (AsyncResult) -> Void) -> UInt64? {
        let request = MySQLRequest(id: nextRequestID, statement: statement, values: statement.arrange(values),
                                   completion: completion)
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
    /// statement killed (per ``MySQLPoolConfiguration/cancelPolicy``) and its connection closed.
    public func abandon(_ id: UInt64) {
        let running = connections.values.first { $0.phase == .busy && $0.request?.id == id }
        if let running {
            running.request = nil
            if configuration.cancelPolicy == .killQuery {
                statistics.killRequests += 1
                MySQLKillQuery(settings: settings, connectionID: mysql_thread_id(running.mysql)).send()
            }
        }
        feed(.requestCancelled(id, runningOn: running?.id))
    }

    /// Opens connections up to the pool size now (optional; they open on demand otherwise).
    public func warmUp() {
        feed(.warmUp)
    }

    /// Closes every connection and fails the queued requests with rc -1 (worker shutdown).
    public func close() {
        feed(.shutdown)
    }

    // MARK: - Executing the state machine's actions

    package func execute(_ action: Machine.Action) {
        switch action {
        case .none, .abandon, .drain:
            return  // one query per connection; an abandoned one is closed
        case .openConnection(let id):
            openConnection(id)
        case .send(let request, let id, _):
            guard let connection = connections[id] else { preconditionFailure("Invalid state: send on unknown \(id)") }
            send(request, on: connection)
        case .reject(let request):
            statistics.queriesRejected += 1
            request.completion(AsyncResult.rejected(reason: "mysql pool queue is full"))
        case .fail(let request, let failure):
            request.completion(Self.errorResult(failureMessage(failure)))
        case .closeConnection(let id, let reason, let failing):
            closeConnection(id, reason: reason)
            failing?.completion(Self.errorResult(failureMessage(.connectionLost)))
        }
    }

    private func failureMessage(_ failure: ConnectionPoolFailure) -> String {
        let (message, failedFast) = Self.failureText(failure, driver: "mysql", sendFailure: "mysql send failed",
                                                     lastConnectError: lastConnectError)
        if failedFast { statistics.queriesFailedFast += 1 }
        return message
    }

    // MARK: - Driving suspended library calls

    /// Continues after a library call returned `status`: at once when it completed (0), else when the
    /// socket or the timer says what the call waits for.
    private func step(_ connection: MySQLConnection, _ status: Int32, resume: @escaping (Int32) -> Int32,
                      then: @escaping () -> Void) {
        if status == 0 {
            then()
            return
        }
        connection.resume = resume
        connection.then = then
        wait(connection, status)
    }

    private func wait(_ connection: MySQLConnection, _ status: Int32) {
        connection.waitingFor = status
        var interest: Interest = []
        if status & MYSQL_WAIT_READ != 0 { interest.insert(.read) }
        if status & MYSQL_WAIT_WRITE != 0 { interest.insert(.write) }
        watch(connection, interest.isEmpty ? .read : interest)
        if status & MYSQL_WAIT_TIMEOUT != 0 {
            let ms = UInt64(mysql_get_timeout_value_ms(connection.mysql))
            connection.libraryTimer = reactor.schedule(afterMilliseconds: ms) { [weak self, weak connection] in
                guard let self, let connection else { return }
                connection.libraryTimer = nil
                self.resumeCall(connection, MYSQL_WAIT_TIMEOUT)
            }
        }
    }

    /// Calls the suspended call's `_cont` with `events`; runs its follow-up once it completes.
    private func resumeCall(_ connection: MySQLConnection, _ events: Int32) {
        guard let resume = connection.resume else { return }
        if let timer = connection.libraryTimer {
            reactor.cancel(timer)
            connection.libraryTimer = nil
        }
        connection.steps += 1
        let status = resume(events)
        guard connection.phase != .closed else { return }
        if status != 0 {
            wait(connection, status)
            return
        }
        let then = connection.then
        connection.resume = nil
        connection.then = nil
        then?()
    }

    /// Readiness on a connection's socket, whatever its phase.
    private func ready(_ connection: MySQLConnection, _ events: ReadyEvents) {
        if connection.resume != nil {
            var happened: Int32 = 0
            let wanted = connection.waitingFor
            let failed = events.contains(.error) || events.contains(.hangup)
            if wanted & MYSQL_WAIT_READ != 0 && (events.contains(.readable) || failed) { happened |= MYSQL_WAIT_READ }
            if wanted & MYSQL_WAIT_WRITE != 0 && (events.contains(.writable) || failed) { happened |= MYSQL_WAIT_WRITE }
            if happened != 0 { resumeCall(connection, happened) }
            return
        }
        if connection.phase == .idle {
            // Nothing is expected on an idle connection: the server is closing it (shutdown, KILL, restart).
            dropConnection(connection)
        }
    }

    // MARK: - Connecting

    private func openConnection(_ id: PoolConnectionID) {
        statistics.connectAttempts += 1
        guard let mysql = MySQLHandle.make(settings, nonBlocking: true, connectTimeoutMs: configuration.connectTimeoutMs) else {
            lastConnectError = "out of memory"
            connectFailed(id, message: "out of memory")
            return
        }
        let connection = MySQLConnection(id: id, mysql: mysql, startedAt: reactor.now)
        connections[id] = connection
        connection.timer = reactor.schedule(afterMilliseconds: configuration.connectTimeoutMs) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .connecting else { return }
            connection.timer = nil
            self.connectFailed(connection.id, message: "connect timeout after \(self.configuration.connectTimeoutMs) ms")
        }
        let strings = connection.strings
        let host = strings.copy(settings.socket == nil ? settings.host : nil)
        let user = strings.copy(settings.user.nilIfEmpty)
        let password = strings.copy(settings.password.nilIfEmpty)
        let database = strings.copy(settings.database.nilIfEmpty)
        let socket = strings.copy(settings.socket)
        let status = mysql_real_connect_start(&connection.connectReturn, mysql, host, user, password, database,
                                              settings.port, socket, 0)
        step(connection, status, resume: { [unowned connection] events in
            mysql_real_connect_cont(&connection.connectReturn, connection.mysql, events)
        }, then: { [weak self, unowned connection] in
            self?.connectFinished(connection)
        })
    }

    private func connectFinished(_ connection: MySQLConnection) {
        connection.strings.release()
        guard connection.connectReturn != nil else {
            connectFailed(connection.id, message: connection.errorMessage)
            return
        }
        cancelTimer(connection)
        statistics.connectsSucceeded += 1
        statistics.lastConnectSteps = connection.steps
        health?.reachable()
        connection.phase = .idle
        watch(connection, .read)
        guard connection.phase == .idle else { return }  // the socket could not be watched
        feed(.connectionEstablished(connection.id))
    }

    private func connectFailed(_ id: PoolConnectionID, message: String) {
        statistics.connectFailures += 1
        lastConnectError = message
        feed(.connectionFailed(id))
        if machine.connectionCount == machine.connectingCount { health?.lost(message) }
    }

    // MARK: - Running statements

    private func send(_ request: MySQLRequest, on connection: MySQLConnection) {
        statistics.queriesSent += 1
        connection.phase = .busy
        connection.request = request
        connection.collector = MySQLResultCollector()
        if request.statement.parameterOrder.isEmpty {
            runText(request.statement.sql, on: connection)
        } else {
            runPrepared(request, on: connection)
        }
    }

    /// A statement without values: text protocol, one round trip.
    private func runText(_ sql: String, on connection: MySQLConnection) {
        let mysql = connection.mysql
        let text = connection.strings.copy(sql)
        let status = mysql_real_query_start(&connection.intReturn, mysql, text, UInt(strlen(text!)))
        step(connection, status, resume: { [unowned connection] in
            mysql_real_query_cont(&connection.intReturn, mysql, $0)
        }, then: { [weak self, unowned connection] in
            guard let self else { return }
            guard connection.intReturn == 0 else { return self.fail(connection) }
            if mysql_field_count(mysql) == 0 {
                connection.collector.setAffected(mysql_affected_rows(mysql))
                return self.finishStatement(connection)
            }
            let status = mysql_store_result_start(&connection.resultReturn, mysql)
            self.step(connection, status, resume: { [unowned connection] in
                mysql_store_result_cont(&connection.resultReturn, mysql, $0)
            }, then: { [weak self, unowned connection] in
                guard let self else { return }
                guard let result = connection.resultReturn else { return self.fail(connection) }
                connection.resultReturn = nil
                connection.collector.read(result: result)
                mysql_free_result(result)  // stored: no I/O
                self.finishStatement(connection)
            })
        })
    }

    /// A statement with values: prepared once per connection, then executed with bound parameters.
    private func runPrepared(_ request: MySQLRequest, on connection: MySQLConnection) {
        let sql = request.statement.sql
        if let cached = connection.statements[sql] {
            executePrepared(cached, request, on: connection, cached: true)
            return
        }
        guard let stmt = mysql_stmt_init(connection.mysql) else {
            connection.collector.fail("out of memory")
            return finishStatement(connection)
        }
        statistics.statementsPrepared += 1
        let text = connection.strings.copy(sql)
        let status = mysql_stmt_prepare_start(&connection.intReturn, stmt, text, UInt(strlen(text!)))
        step(connection, status, resume: { [unowned connection] in
            mysql_stmt_prepare_cont(&connection.intReturn, stmt, $0)
        }, then: { [weak self, unowned connection] in
            guard let self else { return }
            guard connection.intReturn == 0 else {
                connection.collector.fail(statement: stmt)
                mysql_stmt_close(stmt)  // never prepared on the server: nothing to send
                return self.finishStatement(connection)
            }
            let keep = connection.statements.count < self.configuration.statementCacheSize
            if keep { connection.statements[sql] = stmt }
            self.executePrepared(stmt, request, on: connection, cached: keep)
        })
    }

    private func executePrepared(_ stmt: UnsafeMutablePointer<MYSQL_STMT>, _ request: MySQLRequest,
                                 on connection: MySQLConnection, cached: Bool) {
        let done: () -> Void = { [weak self, unowned connection] in
            // A statement beyond the cache is closed (a few bytes written to an idle socket, no answer).
            if !cached { mysql_stmt_close(stmt) }
            self?.finishStatement(connection)
        }
        let markers = Int(mysql_stmt_param_count(stmt))
        guard markers == request.values.count else {
            connection.collector.fail("statement has \(markers) parameter markers for \(request.values.count) values")
            return done()
        }
        let parameters = MySQLParameterBuffers(request.values)
        connection.parameters = parameters
        guard mysql_stmt_bind_param(stmt, parameters.binds) == 0 else {
            connection.collector.fail(statement: stmt)
            return done()
        }
        let status = mysql_stmt_execute_start(&connection.intReturn, stmt)
        step(connection, status, resume: { [unowned connection] in
            mysql_stmt_execute_cont(&connection.intReturn, stmt, $0)
        }, then: { [weak self, unowned connection] in
            guard let self else { return }
            guard connection.intReturn == 0 else {
                connection.collector.fail(statement: stmt)
                return done()
            }
            if mysql_stmt_field_count(stmt) == 0 {
                connection.collector.setAffected(mysql_stmt_affected_rows(stmt))
                return done()
            }
            let status = mysql_stmt_store_result_start(&connection.intReturn, stmt)
            self.step(connection, status, resume: { [unowned connection] in
                mysql_stmt_store_result_cont(&connection.intReturn, stmt, $0)
            }, then: { [unowned connection] in
                if connection.intReturn != 0 {
                    connection.collector.fail(statement: stmt)
                } else {
                    connection.collector.read(statement: stmt)
                    mysql_stmt_free_result(stmt)  // stored: no I/O
                }
                done()
            })
        })
    }

    private func fail(_ connection: MySQLConnection) {
        connection.collector.fail(connection: connection.mysql)
        finishStatement(connection)
    }

    /// The statement on `connection` is over: report it (unless abandoned) and recycle the connection.
    private func finishStatement(_ connection: MySQLConnection) {
        guard connection.phase == .busy else { return }
        let request = connection.request
        connection.request = nil
        connection.parameters = nil
        connection.strings.release()
        let result = connection.collector.result()
        let reusable = connection.isReusable
        connection.collector = MySQLResultCollector()
        if reusable {
            connection.phase = .idle
            watch(connection, .read)
        }
        execute(machine.handle(.requestFinished(connection.id, reusable: reusable), now: reactor.now))
        request?.completion(result)
        run(.none)
    }

    // MARK: - Sockets and teardown

    /// Watches the connection's socket for `interest` (registering it the first time: the socket exists
    /// once the connect has started).
    private func watch(_ connection: MySQLConnection, _ interest: Interest) {
        let fd = mysql_get_socket(connection.mysql)
        if fd != connection.fd, let registration = connection.registration {
            reactor.deregister(registration)
            connection.registration = nil
        }
        connection.fd = fd
        guard fd >= 0 else {
            fatal(connection, "no socket: \(connection.errorMessage)")
            return
        }
        if let registration = connection.registration {
            guard connection.interest != interest else { return }
            do {
                try reactor.modify(registration, interest: interest)
                connection.interest = interest
            } catch {
                fatal(connection, "cannot watch socket: \(error)")
            }
            return
        }
        do {
            connection.registration = try reactor.register(fd: fd, interest: interest) { [weak self, weak connection] events in
                if let self, let connection { self.ready(connection, events) }
            }
            connection.interest = interest
        } catch {
            fatal(connection, "cannot watch socket: \(error)")
        }
    }

    /// The socket cannot be used: a connect fails, an established connection is dropped.
    private func fatal(_ connection: MySQLConnection, _ message: String) {
        if connection.phase == .connecting {
            connectFailed(connection.id, message: message)
        } else {
            connection.collector.fail(message, broken: true)
            dropConnection(connection)
        }
    }

    private func cancelTimer(_ connection: MySQLConnection) {
        if let timer = connection.timer {
            reactor.cancel(timer)
            connection.timer = nil
        }
    }

    /// An established connection broke: the machine closes it (its request fails) and may replace it.
    private func dropConnection(_ connection: MySQLConnection) {
        feed(.connectionClosed(connection.id))
    }

    /// Closes a connection the machine has removed. A request still on it fails with rc -1.
    private func closeConnection(_ id: PoolConnectionID, reason: ConnectionPoolCloseReason) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        if reason == .dropped { statistics.connectionsDropped += 1 }
        cancelTimer(connection)
        if let timer = connection.libraryTimer {
            reactor.cancel(timer)
            connection.libraryTimer = nil
        }
        if let registration = connection.registration {
            reactor.deregister(registration)
            connection.registration = nil
        }
        let request = connection.request
        connection.request = nil
        var failure: AsyncResult?
        if request != nil {
            if reason == .shutdown {
                failure = Self.errorResult("mysql pool closed")
            } else {
                var collector = connection.collector
                collector.fail(connection.errorMessage.isEmpty ? "connection to the database lost" : connection.errorMessage)
                failure = collector.result()
            }
        }
        connection.close()
        if let request, let failure { request.completion(failure) }
    }

    static func errorResult(_ message: String) -> AsyncResult {
        AsyncResult(rc: AsyncResult.rcError, outputs: [AsyncOutput("error", .string(message))])
    }
}

extension MySQLPoolConfiguration {
    /// The shared pool machine's rules for MySQL: one query per connection, parallel connects up to the
    /// pool size, abandon = close the connection (after the kill request).
    var poolPolicy: ConnectionPoolPolicy {
        ConnectionPoolPolicy(size: size, maxQueue: maxQueue, maxRequestsPerConnection: 1, maxConcurrentConnects: size,
                             warmUpConnections: size, initialBackoffMs: initialBackoffMs, maxBackoffMs: maxBackoffMs,
                             abandon: .closeConnection)
    }
}

/// The client library writes to sockets the server may have closed: the process ignores SIGPIPE.
private let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()

private func ignoreSIGPIPE() { _ = sigpipeIgnored }
