import CLDAP
import Glibc
import Reactor
import TandemAsync

/// The libldap connections of one LDAP session, owned by one SIP worker's ``Reactor`` (create one per
/// worker and session; every call, callback and completion happens on that loop thread).
///
/// - **Connecting never blocks the loop.** A connection is `ldap_initialize` on the pinned numeric URL
///   (see ``LDAPSessionConfiguration/connectURL``) with `LDAP_OPT_CONNECT_ASYNC`, then a simple bind sent
///   with `ldap_sasl_bind` (nil mechanism). The descriptor (`LDAP_OPT_DESC`) is watched for writability
///   (TCP connect done; `ldap_result` then flushes a bind request libldap could not send yet) and then for
///   readability; the bind response is read with `ldap_result(…, zero timeout)`. `ldap_network_timeout`
///   bounds the connect and `ldap_client_bind_timeout` the bind, with reactor timers. Once bound the socket
///   is set to `O_NONBLOCK` so a partial PDU can never block a read.
/// - **Searches are multiplexed**: `ldap_search_ext` on a bound connection, then every readiness of the
///   descriptor drains `ldap_result(LDAP_RES_ANY, LDAP_MSG_ONE, zero timeout)` until it returns 0, routing
///   each message to its search by message id. A connection carries at most
///   ``LDAPPoolConfiguration/maxSearchesPerConnection`` searches; another opens (up to the pool size) while
///   every bound one is busy. Until a connection can take it, a search waits in a bounded FIFO queue
///   (full → rc -4).
/// - **Failures**: a connection whose `ldap_result` reports an error (server killed, restarted) is unbound
///   and its searches fail with rc -2; the next search opens a new one. A failed connect/bind starts a
///   backoff (doubling, capped) during which a search that finds no live connection fails at once with
///   rc -2, so a server absent at start, killed or restarted is picked up by itself without hanging calls.
/// - **Abandon**: ``abandon(_:)`` forgets the search's owner; the search keeps its slot until the server
///   answers it (its result is dropped), so what a connection carries at the server stays bounded. A
///   connection carrying only such searches for ``LDAPPoolConfiguration/orphanTimeoutMs`` is closed.
///
/// The pool decisions (which connection, queue, backoff, fail-fast, abandon, shutdown) are made by a
/// ``ConnectionPoolStateMachine`` shared with the PostgreSQL driver; this class feeds it events and
/// executes its actions with libldap and the reactor.
///
/// libldap may write to a socket the server has closed (unbind, abandon): creating a pool sets `SIGPIPE`
/// to ignored for the process (a server process should do so anyway).
public final class LDAPConnectionPool: ConnectionPoolShell {
    package typealias Machine = ConnectionPoolStateMachine<LDAPSearchRequest>

    /// The session this pool connects to.
    public let session: LDAPSessionConfiguration
    /// Sizes and timings.
    public let configuration: LDAPPoolConfiguration
    /// The owning worker's reactor.
    public let reactor: Reactor
    /// The connections of the blocking form (`offload`/`sync` modes), shared by all workers.
    public let blocking: LDAPBlockingPool
    /// Counters.
    public private(set) var statistics = LDAPPoolStatistics()

    package var machine: Machine
    package var now: Deadline { reactor.now }
    private var connections: [PoolConnectionID: LDAPConnection] = [:]
    /// Searches on the server: request id → connection and message id.
    private var running: [UInt64: (LDAPConnection, Int32)] = [:]
    private var nextRequestID: UInt64 = 1
    /// Searches on the server nobody waits for any more (see ``abandon(_:)``).
    private var orphans = 0
    private var lastConnectError = ""

    /// Creates an empty pool (nothing connects until the first search, or ``warmUp()``).
    /// - Parameter blocking: the process-wide blocking pool of the session (a private one if `nil`).
    public init(session: LDAPSessionConfiguration, reactor: Reactor,
                configuration: LDAPPoolConfiguration = LDAPPoolConfiguration(), blocking: LDAPBlockingPool? = nil) {
        ignoreSIGPIPE()
        self.session = session
        self.reactor = reactor
        self.configuration = configuration
        self.blocking = blocking ?? LDAPBlockingPool(session: session)
        self.machine = Machine(policy: configuration.poolPolicy)
    }

    deinit {
        for connection in connections.values {
            if let timer = connection.timer { reactor.cancel(timer) }
            if let registration = connection.registration { reactor.deregister(registration) }
            ldap_unbind_ext(connection.ld, nil, nil)
        }
    }

    // MARK: - Gauges

    /// Connections open or opening.
    public var connectionCount: Int { machine.connectionCount }
    /// Bound connections.
    public var readyConnectionCount: Int { machine.readyCount }
    /// Searches in flight on the server that someone waits for.
    public var inFlightCount: Int { running.count }
    /// Searches in flight on the server whose owner gave up (timeout, CANCEL): they keep their connection's
    /// slot until the server answers them.
    public var orphanedCount: Int { orphans }
    /// Searches waiting for a bound connection.
    public var queuedCount: Int { machine.queuedCount }
    /// The last connect/bind error (empty if none yet).
    public var lastError: String { lastConnectError }

    // MARK: - Searches

    /// Starts `search` (its session name is not checked here). `completion` runs once on the loop thread
    /// (inside this call when the pool fails fast). Returns the request id (for ``abandon(_:)``), or `nil`
    /// if the queue is full — `completion` is then not called and the caller reports rc -4.
    @discardableResult
    public func submit(_ search: LDAPURL, completion: @escaping (AsyncResult) -> Void) -> UInt64? {
        closeStaleConnections()
        let request = LDAPSearchRequest(id: nextRequestID, search: search, completion: completion)
        nextRequestID += 1
        let action = machine.handle(.requestArrived(request), now: reactor.now)
        if case .reject = action {
            statistics.searchesRejected += 1
            return nil
        }
        run(action)
        return request.id
    }

    /// Gives up on a request (loop thread; its completion is not called): removed from the queue, or, if
    /// the server has it, left there without an owner (its result is dropped when it comes).
    ///
    /// A running search is not abandoned on the server (`ldap_abandon_ext` has no answer, so the pool could
    /// not tell when the server is done with it): it keeps its slot on the connection until its result
    /// arrives, so a connection never carries more than ``LDAPPoolConfiguration/maxSearchesPerConnection``
    /// operations at the server. A frozen server that resumes finds at most that many per connection,
    /// under slapd's per-connection limit, instead of every search and abandon of the outage (issue 14).
    public func abandon(_ id: UInt64) {
        guard let (connection, messageID) = running.removeValue(forKey: id) else {
            feed(.requestCancelled(id, runningOn: nil))
            return
        }
        guard let request = connection.searches[messageID], request.orphanedAt == nil else { return }
        statistics.searchesAbandoned += 1
        request.orphanedAt = reactor.now
        orphans += 1
    }

    /// Closes the connections that carry only searches nobody waits for, the oldest given up more than
    /// ``LDAPPoolConfiguration/orphanTimeoutMs`` ago: the server is not answering on them.
    private func closeStaleConnections() {
        guard orphans > 0 else { return }
        let now = reactor.now
        for connection in connections.values where connection.phase == .ready && !connection.searches.isEmpty {
            var oldest: Deadline?
            var allOrphaned = true
            for request in connection.searches.values {
                guard let at = request.orphanedAt else {
                    allOrphaned = false
                    break
                }
                if oldest.map({ at < $0 }) ?? true { oldest = at }
            }
            guard allOrphaned, let oldest, now >= oldest.advanced(byMilliseconds: configuration.orphanTimeoutMs) else { continue }
            statistics.staleConnectionsClosed += 1
            feedClosing(.connectionClosed(connection.id), message: "ldap server not answering")
        }
    }

    /// Opens a connection now (optional; they open on demand otherwise).
    public func warmUp() {
        feed(.warmUp)
    }

    /// Unbinds every connection and fails queued and running searches with rc -2 (worker shutdown).
    public func close() {
        feed(.shutdown)
    }

    // MARK: - Executing the state machine's actions

    /// Feeds an event that may close a connection: its searches fail with `message`.
    private func feedClosing(_ event: Machine.Event, message: String) {
        let action = machine.handle(event, now: reactor.now)
        guard case .closeConnection(let id, let reason, let failing) = action else {
            run(action)
            return
        }
        closeConnection(id, reason: reason, message: message)
        failing?.completion(LDAPResultCollector.errorResult(message))
        run(.none)
    }

    package func execute(_ action: Machine.Action) {
        switch action {
        case .none, .abandon, .drain:
            return  // abandon is handled in abandon(_:); LDAP never drains (searches are multiplexed)
        case .openConnection(let id):
            openConnection(id)
        case .send(let request, let id, let isRetry):
            guard let connection = connections[id] else {
                preconditionFailure("Invalid state: send on unknown \(id)")
            }
            send(request, on: connection, isRetry: isRetry)
        case .reject(let request):
            statistics.searchesRejected += 1
            request.completion(AsyncResult.rejected(reason: "ldap pool queue is full"))
        case .fail(let request, let failure):
            request.completion(LDAPResultCollector.errorResult(failureMessage(failure)))
        case .closeConnection(let id, let reason, let failing):
            let message = reason == .shutdown ? "ldap pool closed" : "ldap connection closed"
            closeConnection(id, reason: reason, message: message)
            failing?.completion(LDAPResultCollector.errorResult(message))
        }
    }

    private func failureMessage(_ failure: ConnectionPoolFailure) -> String {
        let (message, failedFast) = Self.failureText(failure, driver: "ldap", sendFailure: "ldap search could not be sent",
                                                     lastConnectError: lastConnectError)
        if failedFast { statistics.searchesFailedFast += 1 }
        return message
    }

    // MARK: - Connecting

    private func openConnection(_ id: PoolConnectionID) {
        statistics.connectAttempts += 1
        var handle: OpaquePointer?
        let rc = ldap_initialize(&handle, session.connectURL)
        guard rc == LDAP_SUCCESS, let ld = handle else {
            connectFailed(id, message: "ldap_initialize(\(session.connectURL)): \(String(cString: ldap_err2string(rc)))")
            return
        }
        _ = tandem_ldap_set_int(ld, LDAP_OPT_PROTOCOL_VERSION, LDAP_VERSION3)
        _ = tandem_ldap_set_flag(ld, LDAP_OPT_CONNECT_ASYNC, 1)
        _ = tandem_ldap_set_flag(ld, LDAP_OPT_REFERRALS, 0)  // chasing would connect synchronously
        _ = tandem_ldap_set_timeout(ld, LDAP_OPT_NETWORK_TIMEOUT, Int(session.networkTimeoutMs))
        let connection = LDAPConnection(id: id, ld: ld, startedAt: reactor.now)
        connections[id] = connection
        sendBind(connection)
        guard connection.phase != .closed else { return }
        let fd = tandem_ldap_get_int(ld, LDAP_OPT_DESC)
        guard fd >= 0 else {
            connectFailed(id, message: "no descriptor: \(connection.lastError)")
            return
        }
        connection.fd = fd
        do {
            connection.registration = try reactor.register(fd: fd, interest: .write) { [weak self, weak connection] events in
                if let self, let connection { self.ready(connection, events) }
            }
            connection.interest = .write
        } catch {
            connectFailed(id, message: "cannot watch the LDAP socket: \(error)")
            return
        }
        let limit = session.networkTimeoutMs
        connection.timer = reactor.schedule(afterMilliseconds: limit) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .connecting else { return }
            connection.timer = nil
            self.connectFailed(connection.id, message: "connect timeout after \(limit) ms (ldap_network_timeout)")
        }
    }

    /// Sends the simple bind (again, if libldap answered "still connecting" the first time).
    private func sendBind(_ connection: LDAPConnection) {
        var messageID: Int32 = -1
        let rc = tandem_ldap_simple_bind(connection.ld, session.bindDN.isEmpty ? nil : session.bindDN,
                                         session.bindPassword, &messageID)
        if rc == LDAP_SUCCESS {
            connection.bindMessageID = messageID
        } else if rc == LDAP_X_CONNECTING {
            connection.bindMessageID = -1  // retried when the socket is writable
        } else {
            connectFailed(connection.id, message: "bind: \(connection.lastError)")
        }
    }

    private func connected(_ connection: LDAPConnection) {
        if connection.bindMessageID < 0 {
            sendBind(connection)
            if connection.phase == .closed { return }
            if connection.bindMessageID < 0 { return }  // still connecting
        }
        connection.phase = .binding
        cancelTimer(connection)
        let limit = session.bindTimeoutMs
        connection.timer = reactor.schedule(afterMilliseconds: limit) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .binding else { return }
            connection.timer = nil
            self.connectFailed(connection.id, message: "bind timeout after \(limit) ms (ldap_client_bind_timeout)")
        }
        setInterest(connection, .read)
    }

    private func bound(_ connection: LDAPConnection) {
        cancelTimer(connection)
        let flags = fcntl(connection.fd, F_GETFL)
        if flags >= 0 && flags & O_NONBLOCK == 0 { _ = fcntl(connection.fd, F_SETFL, flags | O_NONBLOCK) }
        statistics.bindsSucceeded += 1
        connection.phase = .ready
        feed(.connectionEstablished(connection.id))
    }

    /// A connect or bind failed: the machine starts the backoff and decides whether queued searches wait
    /// for another connect or fail at once.
    private func connectFailed(_ id: PoolConnectionID, message: String) {
        statistics.connectFailures += 1
        lastConnectError = message
        feedClosing(.connectionFailed(id), message: message)
    }

    // MARK: - Running searches

    private func send(_ request: LDAPSearchRequest, on connection: LDAPConnection, isRetry: Bool) {
        var messageID: Int32 = -1
        let search = request.search
        let rc = withCStringArray(search.attributes) { attributes in
            ldap_search_ext(connection.ld, search.base, search.scope.code, search.filter, attributes, 0,
                            nil, nil, nil, 0, &messageID)
        }
        if rc == LDAP_SUCCESS {
            statistics.searchesSent += 1
            request.messageID = messageID
            connection.searches[messageID] = request
            running[request.id] = (connection, messageID)
            statistics.peakInFlight = max(statistics.peakInFlight, connection.searches.count)
            return
        }
        if rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR {
            // Nothing reached the server: the machine re-queues it once (for a new connection).
            feedClosing(.sendFailed(request, on: connection.id, connectionLost: true, isRetry: isRetry),
                        message: connection.lastError)
            return
        }
        // Refused locally (bad filter, bad parameter): the connection stays usable.
        let event = Machine.Event.sendFailed(request, on: connection.id, connectionLost: false, isRetry: isRetry)
        switch machine.handle(event, now: reactor.now) {
        case .fail(let refused, _):
            refused.completion(refused.collector.result(code: rc))
        case let other:
            execute(other)
        }
    }

    /// Readiness on a connection's descriptor, whatever its phase.
    private func ready(_ connection: LDAPConnection, _ events: ReadyEvents) {
        if connection.phase == .connecting {
            connected(connection)
            if connection.phase != .binding { return }
        }
        drain(connection)
    }

    /// Reads every message libldap can give without waiting.
    private func drain(_ connection: LDAPConnection) {
        while connection.phase == .binding || connection.phase == .ready {
            var message: OpaquePointer?
            let type = tandem_ldap_result_now(connection.ld, LDAP_RES_ANY, &message)
            if type == 0 { return }
            guard type > 0, let message else {
                let reason = connection.lastError
                if connection.phase == .binding {
                    connectFailed(connection.id, message: "bind: \(reason)")
                } else {
                    feedClosing(.connectionClosed(connection.id), message: reason)
                }
                return
            }
            handle(message, type: type, on: connection)
            ldap_msgfree(message)
        }
    }

    private func handle(_ message: OpaquePointer, type: Int32, on connection: LDAPConnection) {
        let messageID = ldap_msgid(message)
        if connection.phase == .binding {
            guard messageID == connection.bindMessageID else { return }
            var code: Int32 = 0
            var text: UnsafeMutablePointer<CChar>?
            let rc = ldap_parse_result(connection.ld, message, &code, nil, &text, nil, nil, 0)
            let detail = text.map { String(cString: $0) } ?? ""
            if let text { ldap_memfree(text) }
            if rc == LDAP_SUCCESS && code == LDAP_SUCCESS {
                bound(connection)
            } else {
                let reason = String(cString: ldap_err2string(rc == LDAP_SUCCESS ? code : rc))
                connectFailed(connection.id, message: "bind as \"\(session.bindDN)\" refused: \(reason)\(detail.isEmpty ? "" : " (\(detail))")")
            }
            return
        }
        guard let request = connection.searches[messageID] else { return }
        if request.orphanedAt != nil {
            // Nobody waits for it: only its end matters, which frees the slot.
            guard type == Int32(LDAP_RES_SEARCH_RESULT) else { return }
            connection.searches.removeValue(forKey: messageID)
            orphans -= 1
            run(machine.handle(.requestFinished(connection.id, reusable: true), now: reactor.now))
            return
        }
        switch type {
        case Int32(LDAP_RES_SEARCH_ENTRY):
            request.collector.add(entry: message, ld: connection.ld)
        case Int32(LDAP_RES_SEARCH_RESULT):
            var code: Int32 = 0
            var text: UnsafeMutablePointer<CChar>?
            let rc = ldap_parse_result(connection.ld, message, &code, nil, &text, nil, nil, 0)
            let detail = text.map { String(cString: $0) }
            if let text { ldap_memfree(text) }
            connection.searches.removeValue(forKey: messageID)
            running.removeValue(forKey: request.id)
            feed(.requestFinished(connection.id, reusable: true))
            request.completion(request.collector.result(code: rc == LDAP_SUCCESS ? code : rc, message: detail))
        default:
            break  // references (referrals are not chased), intermediate responses
        }
    }

    // MARK: - Teardown

    private func setInterest(_ connection: LDAPConnection, _ interest: Interest) {
        guard let registration = connection.registration, connection.interest != interest else { return }
        do {
            try reactor.modify(registration, interest: interest)
            connection.interest = interest
        } catch {
            feedClosing(.connectionClosed(connection.id), message: "cannot watch the LDAP socket: \(error)")
        }
    }

    private func cancelTimer(_ connection: LDAPConnection) {
        if let timer = connection.timer {
            reactor.cancel(timer)
            connection.timer = nil
        }
    }

    /// Unbinds a connection the machine has removed; its searches fail with rc -2 and `message`.
    private func closeConnection(_ id: PoolConnectionID, reason: ConnectionPoolCloseReason, message: String) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        if reason == .dropped { statistics.connectionsDropped += 1 }
        cancelTimer(connection)
        if let registration = connection.registration {
            reactor.deregister(registration)
            connection.registration = nil
        }
        connection.phase = .closed
        let failed = connection.searches.values.filter { $0.orphanedAt == nil }.sorted { $0.id < $1.id }
        orphans -= connection.searches.count - failed.count
        connection.searches.removeAll()
        ldap_unbind_ext(connection.ld, nil, nil)
        for request in failed {
            running.removeValue(forKey: request.id)
            request.completion(LDAPResultCollector.errorResult(message))
        }
    }
}

extension LDAPPoolConfiguration {
    /// The shared pool machine's rules for LDAP: searches multiplexed on a connection (up to
    /// ``maxSearchesPerConnection``), one connect at a time, warm-up opens one, an abandoned search leaves
    /// its connection in service (the shell keeps its slot until the server answers it), a failed connect
    /// (often a bind that timed out) backs off at once rather than waiting out a second bind timeout.
    var poolPolicy: ConnectionPoolPolicy {
        ConnectionPoolPolicy(size: size, maxQueue: maxQueue, maxRequestsPerConnection: maxSearchesPerConnection,
                             maxConcurrentConnects: 1,
                             warmUpConnections: 1, initialBackoffMs: initialBackoffMs, maxBackoffMs: maxBackoffMs,
                             abandon: .keepConnection, retriesFirstFailureAtOnce: false)
    }
}

/// libldap writes with `write(2)`: a peer that closed the connection must not kill the process.
private let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()

private func ignoreSIGPIPE() { _ = sigpipeIgnored }
