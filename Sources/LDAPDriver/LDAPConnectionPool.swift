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
///   each message to its search by message id. Until a connection is bound, searches wait in a bounded
///   FIFO queue (full → rc -4).
/// - **Failures**: a connection whose `ldap_result` reports an error (server killed, restarted) is unbound
///   and its searches fail with rc -2; the next search opens a new one. A failed connect/bind starts a
///   backoff (doubling, capped) during which a search that finds no live connection fails at once with
///   rc -2, so a server absent at start, killed or restarted is picked up by itself without hanging calls.
/// - **Abandon**: ``abandon(_:)`` sends `ldap_abandon_ext` and forgets the search; late messages for it are
///   dropped by libldap.
///
/// libldap may write to a socket the server has closed (unbind, abandon): creating a pool sets `SIGPIPE`
/// to ignored for the process (a server process should do so anyway).
public final class LDAPConnectionPool {
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

    private var connections: [LDAPConnection] = []
    private var queue: [LDAPSearchRequest] = []
    /// Searches on the server: request id → connection and message id.
    private var running: [UInt64: (LDAPConnection, Int32)] = [:]
    private var nextRequestID: UInt64 = 1
    private var backoffMs: UInt64 = 0
    private var retryAt: Deadline?
    private var lastConnectError = ""
    private var closed = false

    /// Creates an empty pool (nothing connects until the first search, or ``warmUp()``).
    /// - Parameter blocking: the process-wide blocking pool of the session (a private one if `nil`).
    public init(session: LDAPSessionConfiguration, reactor: Reactor,
                configuration: LDAPPoolConfiguration = LDAPPoolConfiguration(), blocking: LDAPBlockingPool? = nil) {
        ignoreSIGPIPE()
        self.session = session
        self.reactor = reactor
        self.configuration = configuration
        self.blocking = blocking ?? LDAPBlockingPool(session: session)
    }

    deinit {
        for connection in connections {
            if let timer = connection.timer { reactor.cancel(timer) }
            if let registration = connection.registration { reactor.deregister(registration) }
            ldap_unbind_ext(connection.ld, nil, nil)
        }
    }

    // MARK: - Gauges

    /// Connections open or opening.
    public var connectionCount: Int { connections.count }
    /// Bound connections.
    public var readyConnectionCount: Int { connections.reduce(0) { $0 + ($1.phase == .ready ? 1 : 0) } }
    /// Searches in flight on the server.
    public var inFlightCount: Int { running.count }
    /// Searches waiting for a bound connection.
    public var queuedCount: Int { queue.count }
    /// The last connect/bind error (empty if none yet).
    public var lastError: String { lastConnectError }

    // MARK: - Searches

    /// Starts `search` (its session name is not checked here). `completion` runs once on the loop thread
    /// (inside this call when the pool fails fast). Returns the request id (for ``abandon(_:)``), or `nil`
    /// if the queue is full — `completion` is then not called and the caller reports rc -4.
    @discardableResult
    public func submit(_ search: LDAPURL, completion: @escaping (AsyncResult) -> Void) -> UInt64? {
        let request = LDAPSearchRequest(id: nextRequestID, search: search, completion: completion)
        nextRequestID += 1
        if closed {
            completion(LDAPResultCollector.errorResult("ldap pool is closed"))
            return request.id
        }
        if let connection = leastLoadedReady() {
            if !connection.searches.isEmpty { growIfAllBusy() }
            send(request, on: connection)
            return request.id
        }
        if queue.count >= configuration.maxQueue {
            statistics.searchesRejected += 1
            return nil
        }
        queue.append(request)
        growIfNeeded()
        return request.id
    }

    /// Gives up on a request (loop thread; its completion is not called): removed from the queue, or
    /// abandoned on the server with `ldap_abandon_ext`.
    public func abandon(_ id: UInt64) {
        if let index = queue.firstIndex(where: { $0.id == id }) {
            queue.remove(at: index)
            return
        }
        guard let (connection, messageID) = running.removeValue(forKey: id) else { return }
        guard connection.searches.removeValue(forKey: messageID) != nil else { return }
        statistics.searchesAbandoned += 1
        if connection.phase == .ready { _ = ldap_abandon_ext(connection.ld, messageID, nil, nil) }
    }

    /// Opens a connection now (optional; they open on demand otherwise).
    public func warmUp() {
        if !closed && connections.isEmpty && !inBackoff { openConnection() }
    }

    /// Unbinds every connection and fails queued and running searches with rc -2 (worker shutdown).
    public func close() {
        closed = true
        for connection in connections { drop(connection, reason: "ldap pool closed", counted: false) }
        failQueued("ldap pool closed")
    }

    // MARK: - Dispatch

    private func leastLoadedReady() -> LDAPConnection? {
        var best: LDAPConnection?
        for connection in connections where connection.phase == .ready {
            if best == nil || connection.searches.count < best!.searches.count { best = connection }
        }
        return best
    }

    private var inBackoff: Bool {
        guard let retryAt else { return false }
        return reactor.now < retryAt
    }

    /// Every bound connection has work: open one more if the pool may grow.
    private func growIfAllBusy() {
        guard connections.count < configuration.size, !inBackoff,
              !connections.contains(where: { $0.phase == .connecting || $0.phase == .binding }) else { return }
        openConnection()
    }

    /// Opens a connection for queued searches, or fails them when nothing can serve them (no live
    /// connection and the reconnect delay is running).
    private func growIfNeeded() {
        guard !closed, !queue.isEmpty else { return }
        if let connection = leastLoadedReady() {
            dispatchQueued(on: connection)
            return
        }
        let opening = connections.contains { $0.phase == .connecting || $0.phase == .binding }
        if !opening && connections.count < configuration.size && !inBackoff {
            openConnection()
            return
        }
        if connections.isEmpty {
            let wait = retryAt.map { reactor.now < $0 ? $0.nanoseconds - reactor.now.nanoseconds : 0 } ?? 0
            failQueued("not connected (retry in \(wait / 1_000_000) ms): \(lastConnectError)")
        }
    }

    private func dispatchQueued(on connection: LDAPConnection) {
        let waiting = queue
        queue.removeAll()
        for (index, request) in waiting.enumerated() {
            guard connection.phase == .ready else {
                queue.insert(contentsOf: waiting[index...], at: 0)
                growIfNeeded()
                return
            }
            send(request, on: connection)
        }
    }

    private func failQueued(_ message: String) {
        let waiting = queue
        queue.removeAll()
        for request in waiting {
            statistics.searchesFailedFast += 1
            request.completion(LDAPResultCollector.errorResult(message))
        }
    }

    // MARK: - Connecting

    private func openConnection() {
        statistics.connectAttempts += 1
        var handle: OpaquePointer?
        let rc = ldap_initialize(&handle, session.connectURL)
        guard rc == LDAP_SUCCESS, let ld = handle else {
            connectFailed(nil, message: "ldap_initialize(\(session.connectURL)): \(String(cString: ldap_err2string(rc)))")
            return
        }
        _ = tandem_ldap_set_int(ld, LDAP_OPT_PROTOCOL_VERSION, LDAP_VERSION3)
        _ = tandem_ldap_set_flag(ld, LDAP_OPT_CONNECT_ASYNC, 1)
        _ = tandem_ldap_set_flag(ld, LDAP_OPT_REFERRALS, 0)  // chasing would connect synchronously
        _ = tandem_ldap_set_timeout(ld, LDAP_OPT_NETWORK_TIMEOUT, Int(session.networkTimeoutMs))
        let connection = LDAPConnection(ld: ld, startedAt: reactor.now)
        connections.append(connection)
        sendBind(connection)
        guard connection.phase != .closed else { return }
        let fd = tandem_ldap_get_int(ld, LDAP_OPT_DESC)
        guard fd >= 0 else {
            connectFailed(connection, message: "no descriptor: \(connection.lastError)")
            return
        }
        connection.fd = fd
        do {
            connection.registration = try reactor.register(fd: fd, interest: .write) { [weak self, weak connection] events in
                if let self, let connection { self.ready(connection, events) }
            }
            connection.interest = .write
        } catch {
            connectFailed(connection, message: "cannot watch the LDAP socket: \(error)")
            return
        }
        let limit = session.networkTimeoutMs
        connection.timer = reactor.schedule(afterMilliseconds: limit) { [weak self, weak connection] in
            guard let self, let connection, connection.phase == .connecting else { return }
            connection.timer = nil
            self.connectFailed(connection, message: "connect timeout after \(limit) ms (ldap_network_timeout)")
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
            connectFailed(connection, message: "bind: \(connection.lastError)")
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
            self.connectFailed(connection, message: "bind timeout after \(limit) ms (ldap_client_bind_timeout)")
        }
        setInterest(connection, .read)
    }

    private func bound(_ connection: LDAPConnection) {
        cancelTimer(connection)
        let flags = fcntl(connection.fd, F_GETFL)
        if flags >= 0 && flags & O_NONBLOCK == 0 { _ = fcntl(connection.fd, F_SETFL, flags | O_NONBLOCK) }
        statistics.bindsSucceeded += 1
        backoffMs = 0
        retryAt = nil
        connection.phase = .ready
        dispatchQueued(on: connection)
    }

    private func connectFailed(_ connection: LDAPConnection?, message: String) {
        statistics.connectFailures += 1
        lastConnectError = message
        if let connection { drop(connection, reason: message, counted: false) }
        backoffMs = backoffMs == 0 ? configuration.initialBackoffMs : min(backoffMs * 2, configuration.maxBackoffMs)
        retryAt = reactor.now.advanced(byMilliseconds: backoffMs)
        growIfNeeded()
    }

    // MARK: - Running searches

    private func send(_ request: LDAPSearchRequest, on connection: LDAPConnection) {
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
            // Nothing reached the server: retry once on a new connection.
            let message = connection.lastError
            drop(connection, reason: message)
            if !request.retried {
                request.retried = true
                queue.insert(request, at: 0)
                growIfNeeded()
                return
            }
            request.completion(LDAPResultCollector.errorResult(message))
            return
        }
        // Refused locally (bad filter, bad parameter): the connection stays usable.
        request.completion(request.collector.result(code: rc))
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
                    connectFailed(connection, message: "bind: \(reason)")
                } else {
                    drop(connection, reason: reason)
                    growIfNeeded()
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
                connectFailed(connection, message: "bind as \"\(session.bindDN)\" refused: \(reason)\(detail.isEmpty ? "" : " (\(detail))")")
            }
            return
        }
        guard let request = connection.searches[messageID] else { return }  // abandoned
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
            drop(connection, reason: "cannot watch the LDAP socket: \(error)")
        }
    }

    private func cancelTimer(_ connection: LDAPConnection) {
        if let timer = connection.timer {
            reactor.cancel(timer)
            connection.timer = nil
        }
    }

    /// Unbinds a connection and removes it from the pool; its searches fail with rc -2.
    private func drop(_ connection: LDAPConnection, reason: String, counted: Bool = true) {
        guard let index = connections.firstIndex(where: { $0 === connection }) else { return }
        connections.remove(at: index)
        if counted { statistics.connectionsDropped += 1 }
        cancelTimer(connection)
        if let registration = connection.registration {
            reactor.deregister(registration)
            connection.registration = nil
        }
        connection.phase = .closed
        let failed = connection.searches.values.sorted { $0.id < $1.id }
        connection.searches.removeAll()
        ldap_unbind_ext(connection.ld, nil, nil)
        for request in failed {
            running.removeValue(forKey: request.id)
            request.completion(LDAPResultCollector.errorResult(reason))
        }
    }
}

/// libldap writes with `write(2)`: a peer that closed the connection must not kill the process.
private let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()

private func ignoreSIGPIPE() { _ = sigpipeIgnored }
