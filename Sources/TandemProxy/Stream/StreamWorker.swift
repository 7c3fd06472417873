import Glibc
import Logging
import Reactor
import SIPCore
import Synchronization
import TLSTransport

/// The stream side of one worker: its listening sockets (one `SO_REUSEPORT` socket per TCP or TLS
/// address, so the kernel spreads new connections over the workers), the connections it accepted or
/// opened, and their reads, writes and timeouts — all on the worker's own reactor, never blocking.
///
/// TLS runs on the same reactor: a connection's ``TLSSession`` works on memory buffers, so the socket
/// is read and written exactly as for TCP and the session only turns ciphertext into plaintext and
/// back. A handshake is driven by the bytes that arrive (read interest) and the records it produces
/// (written, with write interest while the socket is full); the sweep ends handshakes that take longer
/// than `tls_handshake_timeout`.
///
/// A connection stays on the worker that accepted or opened it. A send to it from another worker is
/// handed over through the ``StreamHub`` (`ReactorHandle.execute`).
///
/// `@unchecked Sendable`: handed to its own worker's thread only (``StreamHub/dispatch(to:_:)``).
final class StreamWorker: @unchecked Sendable {
    private unowned let context: WorkerContext
    private let core: ProxyCore
    private let hub: StreamHub
    private let settings: StreamSettings
    private var listeners: [(fd: Int32, registration: RegistrationID?, socketIndex: Int)] = []
    private var connections: [UInt64: StreamConnection] = [:]
    private let readBuffer: UnsafeMutableRawBufferPointer
    private var sweepTimer: TimerID?
    private var isClosed = false

    /// Listens on `addresses` (pairs of unified socket index and address), each with `SO_REUSEPORT`.
    init(context: WorkerContext, core: ProxyCore, listen addresses: [(socketIndex: Int, address: SocketAddress)])
        throws(IOError) {
        self.context = context
        self.core = core
        self.hub = core.streams
        self.settings = core.streams.settings
        readBuffer = .allocate(byteCount: 65_536, alignment: 16)
        for (socketIndex, address) in addresses {
            do {
                let fd = try System.listeningStreamSocket(address, reusePort: true)
                listeners.append((fd, nil, socketIndex))
            } catch {
                close()
                throw error
            }
        }
    }

    /// Watches the listening sockets (on the worker's reactor, before its loop starts).
    func start() throws(IOError) {
        for index in listeners.indices {
            let fd = listeners[index].fd, socketIndex = listeners[index].socketIndex
            listeners[index].registration = try context.reactor.register(fd: fd, interest: .read) { [unowned self] _ in
                self.acceptAll(fd, socketIndex: socketIndex)
            }
        }
        hub.attach(self, index: context.index, handle: context.reactor.handle)
    }

    /// Closes every connection and listening socket (on the worker's thread, at its end).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        hub.detach(index: context.index)
        for connection in Array(connections.values) { closeConnection(connection, reason: nil) }
        for listener in listeners {
            if let registration = listener.registration { context.reactor.deregister(registration) }
            try? System.close(listener.fd)
        }
        listeners = []
        if let sweepTimer { context.reactor.cancel(sweepTimer) }
        sweepTimer = nil
        readBuffer.deallocate()
    }

    // MARK: - Sending

    /// Sends `bytes` to `remote` over the connection to it (any worker's; opened from here when there
    /// is none), for the TCP socket `socketIndex`. False when it cannot be sent or queued.
    /// The worker that owns the connection, or is opening one, gets the message
    /// (``StreamHub/sender(for:transport:worker:)``): one connection per peer even when two workers
    /// relay to it at the same moment.
    func send(_ bytes: [UInt8], to remote: SocketAddress, socketIndex: Int) -> Bool {
        let transport = core.settings.transport(at: socketIndex)
        let sender = hub.sender(for: remote, transport: transport, worker: context.index)
        if sender != context.index {
            let sent = hub.dispatch(to: sender) { worker in
                _ = worker.sendHere(bytes, to: remote, socketIndex: socketIndex)
            }
            if sent { return true }
        }
        return sendHere(bytes, to: remote, socketIndex: socketIndex)
    }

    /// Sends on a connection this worker owns, or opens one.
    private func sendHere(_ bytes: [UInt8], to remote: SocketAddress, socketIndex: Int) -> Bool {
        let transport = core.settings.transport(at: socketIndex)
        if let entry = hub.connection(to: remote, transport: transport), let connection = connections[entry.id],
           !connection.closed {
            return write(bytes, on: connection)
        }
        guard let connection = open(to: remote, socketIndex: socketIndex) else {
            hub.releaseClaim(remote, transport: transport)
            return false
        }
        return write(bytes, on: connection)
    }

    /// Starts a nonblocking connect to `remote` from the local address of `socketIndex`.
    private func open(to remote: SocketAddress, socketIndex: Int) -> StreamConnection? {
        let transport = core.settings.transport(at: socketIndex)
        let counters = hub.counters(for: transport)
        guard admit(outgoing: true, peer: remote, transport: transport) else { return nil }
        var security = StreamSecurity.plain
        if transport == .tls {
            // The session first: without a client domain nothing is connected.
            let serverName = hub.serverName(for: remote)
            guard let session = makeSession(peer: remote, counters: counters, { tls, nowMs in
                try tls.clientSession(remote, serverName, nowMs)
            }) else {
                hub.openCount.subtract(1, ordering: .relaxed)
                counters.connectFailures.add(1, ordering: .relaxed)
                return nil
            }
            security = .tls(session)
        }
        let fd: Int32
        let inProgress: Bool
        do {
            (fd, inProgress) = try System.connectStream(to: remote, from: core.socketAddress(at: socketIndex)?.withPort(0))
        } catch {
            hub.openCount.subtract(1, ordering: .relaxed)
            counters.connectFailures.add(1, ordering: .relaxed)
            core.logger.info("\(transport.rawValue) connect failed", metadata: [LogMetadataKey.peer: "\(remote)", LogMetadataKey.error: "\(error)"])
            return nil
        }
        counters.connected.add(1, ordering: .relaxed)
        let entry = StreamHub.Entry(id: hub.makeID(), worker: context.index, remote: remote, socketIndex: socketIndex,
                                    transport: transport, outgoing: true)
        let connection = StreamConnection(entry: entry, fd: fd, security: security, connecting: inProgress,
                                          maxMessageSize: settings.maxMessageSize, now: context.reactor.now)
        guard watch(connection, interest: inProgress ? .readWrite : .read) else { return nil }
        return connection
    }

    /// Queues or writes `bytes`; false (nothing queued) when the connection's queue is full or broken.
    private func write(_ bytes: [UInt8], on connection: StreamConnection) -> Bool {
        guard !connection.closed else { return false }
        if connection.pendingOutbound + bytes.count > settings.maxOutboundBytes {
            counters(connection).outboundOverflows.add(1, ordering: .relaxed)
            core.logger.info("\(connection.entry.transport.rawValue) outbound queue full; message dropped",
                             metadata: [LogMetadataKey.peer: "\(connection.entry.remote)"])
            return false
        }
        switch connection.security {
        case .plain:
            return rawWrite(bytes, on: connection)
        case .tls(let session):
            // Queued inside the session while it still handshakes; records to write once it is established.
            do {
                try session.send(plaintext: bytes)
            } catch {
                tlsFailed(connection, session: session, error: error, handshaking: false)
                return false
            }
            return writeOutput(of: session, on: connection)
        }
    }

    /// Writes what the session produced (handshake messages, records, alerts); true when there was
    /// nothing or it was written or queued.
    @discardableResult
    private func writeOutput(of session: TLSSession, on connection: StreamConnection) -> Bool {
        guard session.wantsWrite else { return true }
        return rawWrite(session.takeOutput(), on: connection)
    }

    /// Writes bytes to the socket as they are, queueing what it does not take.
    private func rawWrite(_ bytes: [UInt8], on connection: StreamConnection) -> Bool {
        guard !connection.closed else { return false }
        if connection.connecting || connection.pendingOutbound > 0 {
            connection.outbound.append(contentsOf: bytes)
            return true
        }
        var written = 0
        while written < bytes.count {
            let result: IOResult<Int>
            do {
                result = try bytes.withUnsafeBytes { raw throws(IOError) in
                    try System.send(connection.fd, UnsafeRawBufferPointer(rebasing: raw[written...]))
                }
            } catch {
                closeConnection(connection, reason: "write failed: \(error)")
                return false
            }
            guard case .processed(let count) = result else { break }
            written += count
        }
        counters(connection).bytesOut.add(written, ordering: .relaxed)
        connection.lastActivity = context.reactor.now
        if written < bytes.count {
            connection.outbound = Array(bytes[written...])
            connection.outboundStart = 0
            setInterest(connection, .readWrite)
        }
        return true
    }

    /// Writes what is queued (the socket became writable).
    private func flush(_ connection: StreamConnection) {
        while connection.pendingOutbound > 0 {
            let result: IOResult<Int>
            do {
                result = try connection.outbound.withUnsafeBytes { raw throws(IOError) in
                    try System.send(connection.fd, UnsafeRawBufferPointer(rebasing: raw[connection.outboundStart...]))
                }
            } catch {
                closeConnection(connection, reason: "write failed: \(error)")
                return
            }
            guard case .processed(let count) = result else { return }
            connection.outboundStart += count
            counters(connection).bytesOut.add(count, ordering: .relaxed)
            connection.lastActivity = context.reactor.now
        }
        connection.outbound.removeAll(keepingCapacity: false)
        connection.outboundStart = 0
        if connection.closeAfterFlush {
            closeConnection(connection, reason: nil)
        } else {
            setInterest(connection, .read)
        }
    }

    // MARK: - Accepting

    private func acceptAll(_ listener: Int32, socketIndex: Int) {
        let transport = core.settings.transport(at: socketIndex)
        let counters = hub.counters(for: transport)
        for _ in 0..<64 {
            let result: IOResult<(fd: Int32, peer: SocketAddress)>
            do {
                result = try System.accept(listener)
            } catch {
                // EMFILE and the like: the pending connection stays in the backlog; try again later.
                core.logger.warning("\(transport.rawValue) accept failed", metadata: [LogMetadataKey.error: "\(error)"])
                return
            }
            guard case .processed(let accepted) = result else { return }
            guard admit(outgoing: false, peer: accepted.peer, transport: transport) else {
                try? System.close(accepted.fd)
                continue
            }
            var security = StreamSecurity.plain
            if transport == .tls {
                let local = core.socketAddress(at: socketIndex) ?? accepted.peer
                guard let session = makeSession(peer: accepted.peer, counters: counters, { tls, nowMs in
                    try tls.serverSession(local, accepted.peer, nowMs)
                }) else {
                    hub.openCount.subtract(1, ordering: .relaxed)
                    counters.refused.add(1, ordering: .relaxed)
                    try? System.close(accepted.fd)
                    continue
                }
                security = .tls(session)
            }
            try? System.setSocketOption(accepted.fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
            counters.accepted.add(1, ordering: .relaxed)
            let entry = StreamHub.Entry(id: hub.makeID(), worker: context.index, remote: accepted.peer,
                                        socketIndex: socketIndex, transport: transport, outgoing: false)
            let connection = StreamConnection(entry: entry, fd: accepted.fd, security: security, connecting: false,
                                              maxMessageSize: settings.maxMessageSize, now: context.reactor.now)
            _ = watch(connection, interest: .read)
        }
    }

    /// Counts a new connection against `tcp_max_connections`; false (refused, logged once) when reached.
    private func admit(outgoing: Bool, peer: SocketAddress, transport: SIPTransport) -> Bool {
        let open = hub.openCount.add(1, ordering: .relaxed).newValue
        if open <= settings.maxConnections { return true }
        hub.openCount.subtract(1, ordering: .relaxed)
        hub.counters(for: transport).refused.add(1, ordering: .relaxed)
        if !hub.limitLogged.exchange(true, ordering: .relaxed) {
            core.logger.warning("tcp_max_connections reached: refusing new connections until some close", metadata: [
                "tcp_max_connections": "\(settings.maxConnections)", LogMetadataKey.peer: "\(peer)",
                "direction": "\(outgoing ? "outgoing" : "incoming")", "transport": "\(transport.rawValue)",
            ])
        }
        return false
    }

    /// Registers the connection with the reactor and the table; false (closed) if it cannot be watched.
    private func watch(_ connection: StreamConnection, interest: Interest) -> Bool {
        do {
            connection.registration = try context.reactor.register(fd: connection.fd, interest: interest) {
                [unowned self, connection] events in
                self.handle(events, on: connection)
            }
        } catch {
            try? System.close(connection.fd)
            hub.openCount.subtract(1, ordering: .relaxed)
            connection.closed = true
            return false
        }
        connections[connection.entry.id] = connection
        counters(connection).open.add(1, ordering: .relaxed)
        hub.insert(connection.entry)
        if sweepTimer == nil { scheduleSweep() }
        return true
    }

    private func setInterest(_ connection: StreamConnection, _ interest: Interest) {
        guard let registration = connection.registration,
              context.reactor.interest(of: registration) != interest else { return }
        do {
            try context.reactor.modify(registration, interest: interest)
        } catch {
            closeConnection(connection, reason: "epoll: \(error)")
        }
    }

    // MARK: - Reading

    private func handle(_ events: ReadyEvents, on connection: StreamConnection) {
        if connection.connecting {
            guard events.contains(.writable) || events.contains(.error) || events.contains(.hangup) else { return }
            let error = System.pendingSocketError(connection.fd)
            guard error == 0 else {
                connectFailed(connection, reason: IOError(errno: error, function: "connect").message)
                return
            }
            connection.connecting = false
        }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) {
            read(connection)
            if connection.closed { return }
        }
        if events.contains(.writable) || connection.pendingOutbound > 0 {
            flush(connection)
        } else {
            setInterest(connection, .read)
        }
    }

    /// Reads what is there (a bounded number of times, for fairness) and hands each message to the core.
    private func read(_ connection: StreamConnection) {
        for _ in 0..<8 {
            let result: IOResult<Int>
            do {
                result = try System.read(connection.fd, into: readBuffer)
            } catch {
                closeConnection(connection, reason: error.errno == ECONNRESET ? nil : "read failed: \(error)")
                return
            }
            guard case .processed(let count) = result else { return }
            guard count > 0 else {
                // The peer closed; a half message is dropped with the connection.
                closeConnection(connection, reason: connection.framer.hasPartialMessage ? "peer closed mid-message" : nil)
                return
            }
            counters(connection).bytesIn.add(count, ordering: .relaxed)
            connection.lastActivity = context.reactor.now
            switch connection.security {
            case .plain:
                connection.framer.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            case .tls(let session):
                guard decrypt(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), session: session,
                              on: connection) else { return }
            }
            deliver(connection)
            if connection.closed || connection.closeAfterFlush { return }
            if count < readBuffer.count { return }
        }
    }

    /// Hands every complete message to the core; answers pings; a framing error gets its 400 and closes.
    private func deliver(_ connection: StreamConnection) {
        var progressed = false
        while !connection.closed && !connection.closeAfterFlush {
            let event: StreamFramer.Event?
            do {
                event = try connection.framer.next()
            } catch {
                framingFailed(connection, error)
                return
            }
            guard let event else { break }
            progressed = true
            switch event {
            case .message(let bytes):
                core.handleDatagram(bytes, from: connection.entry.remote, socketIndex: connection.entry.socketIndex,
                                    worker: context, maxSize: settings.maxMessageSize)
            case .ping:
                counters(connection).pings.add(1, ordering: .relaxed)
                _ = write(Self.pong, on: connection)
            case .pong:
                break
            }
        }
        if connection.framer.hasPartialMessage {
            // The `tcp_max_msg_time` clock times the message now pending: a busy connection whose reads
            // keep ending mid-message (back-to-back messages) restarts it with each message it completes.
            if connection.partialSince == nil || progressed { connection.partialSince = context.reactor.now }
        } else {
            connection.partialSince = nil
        }
    }

    private static let pong: [UInt8] = [13, 10]

    private func framingFailed(_ connection: StreamConnection, _ failure: StreamFramer.Failure) {
        counters(connection).framingErrors.add(1, ordering: .relaxed)
        core.counters.parseErrors.add(1, ordering: .relaxed)
        core.logger.info("closing \(connection.entry.transport.rawValue) connection: bad stream", metadata: [
            LogMetadataKey.peer: "\(connection.entry.remote)", LogMetadataKey.error: "\(failure)",
        ])
        if let reason = failure.replyReason, var partial = SIPMessage.partialRequest(parsing: connection.framer.pendingBytes),
           partial.method != .ack {
            ProxyCore.stampTopVia(&partial, source: connection.entry.remote)
            core.sendStatelessReply(to: partial, source: connection.entry.remote,
                                    socketIndex: connection.entry.socketIndex,
                                    status: failure == .tooLarge ? 513 : 400, reason: reason, worker: context)
        }
        if connection.pendingOutbound > 0 {
            connection.closeAfterFlush = true
        } else {
            closeConnection(connection, reason: nil)
        }
    }

    private func connectFailed(_ connection: StreamConnection, reason: String) {
        counters(connection).connectFailures.add(1, ordering: .relaxed)
        let remote = connection.entry.remote
        closeConnection(connection, reason: "connect failed: \(reason)")
        // Branches waiting on this next hop fail now (503), as for an ICMP error over UDP.
        core.handleUnreachable(remote, worker: context)
    }

    /// Closes the connection (idempotent): out of the reactor, the table and the count.
    private func closeConnection(_ connection: StreamConnection, reason: String?) {
        guard !connection.closed else { return }
        connection.closed = true
        if case .tls(let session) = connection.security, session.state == .established, !connection.connecting,
           connection.pendingOutbound == 0 {
            // close_notify, if the socket takes it now (never waited for).
            session.close()
            let alert = session.takeOutput()
            if !alert.isEmpty {
                _ = try? alert.withUnsafeBytes { raw throws(IOError) in try System.send(connection.fd, raw) }
            }
        }
        counters(connection).open.subtract(1, ordering: .relaxed)
        if let reason {
            core.logger.debug("\(connection.entry.transport.rawValue) connection closed", metadata: [
                LogMetadataKey.peer: "\(connection.entry.remote)", "reason": "\(reason)",
            ])
        }
        if let registration = connection.registration { context.reactor.deregister(registration) }
        try? System.close(connection.fd)
        connections[connection.entry.id] = nil
        hub.remove(connection.entry)
        let open = hub.openCount.subtract(1, ordering: .relaxed).newValue
        if open < settings.maxConnections { hub.limitLogged.store(false, ordering: .relaxed) }
    }

    // MARK: - TLS

    @inline(__always)
    private func counters(_ connection: StreamConnection) -> StreamCounters {
        hub.counters(for: connection.entry.transport)
    }

    /// A session from `make` (the server's `tls_mgm` domains), its failures logged with `peer`; nil
    /// when there is no TLS, no fitting domain, or OpenSSL refused.
    private func makeSession(peer: SocketAddress, counters: StreamCounters,
                             _ make: (StreamTLS, UInt64) throws -> TLSSession?) -> TLSSession? {
        guard let tls = hub.tls else {
            core.logger.warning("tls connection without TLS settings (load tls_mgm.so)",
                                metadata: [LogMetadataKey.peer: "\(peer)"])
            return nil
        }
        do {
            guard let session = try make(tls, context.reactor.now.nanoseconds / 1_000_000) else {
                core.logger.warning("no tls_mgm domain matches this TLS connection; closed",
                                    metadata: [LogMetadataKey.peer: "\(peer)"])
                return nil
            }
            session.logger = core.logger
            return session
        } catch {
            counters.handshakeFailures.add(1, ordering: .relaxed)
            core.logger.warning("cannot start a TLS session", metadata: [
                LogMetadataKey.peer: "\(peer)", LogMetadataKey.error: "\(error)",
            ])
            return nil
        }
    }

    /// Feeds ciphertext read from the socket to the session: plaintext to the framer, handshake records
    /// and alerts to the socket. False when the connection is closed or closing.
    private func decrypt(_ ciphertext: UnsafeRawBufferPointer, session: TLSSession, on connection: StreamConnection) -> Bool {
        let handshaking = session.state == .handshaking
        let plaintext: [UInt8]
        do {
            plaintext = try session.receive(ciphertext: ciphertext)
        } catch {
            tlsFailed(connection, session: session, error: error, handshaking: handshaking)
            return false
        }
        if handshaking && session.state != .handshaking {
            counters(connection).handshakes.add(1, ordering: .relaxed)
            core.logger.debug("tls handshake done", metadata: [
                LogMetadataKey.peer: "\(connection.entry.remote)", "tls.version": "\(session.protocolVersion ?? "?")",
                "tls.cipher": "\(session.cipher ?? "?")", "tls.sni": "\(session.serverName ?? "")",
            ])
        }
        guard writeOutput(of: session, on: connection), !connection.closed else { return false }
        if !plaintext.isEmpty { connection.framer.append(plaintext) }
        if session.state.isFinished {
            // The peer's close_notify: deliver what came before it, then close once our answer is out.
            deliver(connection)
            if connection.pendingOutbound > 0 {
                connection.closeAfterFlush = true
            } else {
                closeConnection(connection, reason: nil)
            }
            return false
        }
        return true
    }

    /// A handshake or record failure (logged by the session with the peer and OpenSSL's reason): the
    /// alert goes out if the socket takes it, the connection closes; branches waiting on an outgoing
    /// connection fail now (503), as for a refused connect.
    private func tlsFailed(_ connection: StreamConnection, session: TLSSession, error: TLSError, handshaking: Bool) {
        let c = counters(connection)
        if handshaking {
            c.handshakeFailures.add(1, ordering: .relaxed)
            if error.code == .certificateVerification { c.certificateFailures.add(1, ordering: .relaxed) }
        }
        if session.wantsWrite, !connection.connecting {
            let alert = session.takeOutput()
            if connection.pendingOutbound == 0 {
                _ = try? alert.withUnsafeBytes { raw throws(IOError) in try System.send(connection.fd, raw) }
            }
        }
        closeConnection(connection, reason: "TLS \(handshaking ? "handshake" : "connection") failed: \(error)")
        if connection.entry.outgoing { core.handleUnreachable(connection.entry.remote, worker: context) }
    }

    // MARK: - Timeouts

    /// Checks every connection: connects past `tcp_connect_timeout`, messages past `tcp_max_msg_time`,
    /// connections idle past `tcp_connection_lifetime`. One timer per worker while it has connections.
    private func scheduleSweep() {
        let period = UInt64(max(50, min(1_000, settings.connectTimeoutMs / 2)))
        sweepTimer = context.reactor.schedule(afterMilliseconds: period) { [unowned self] in
            self.sweepTimer = nil
            self.sweep()
            if !self.connections.isEmpty { self.scheduleSweep() }
        }
    }

    private func sweep() {
        let now = context.reactor.now
        let connectLimit = UInt64(settings.connectTimeoutMs) * 1_000_000
        let messageLimit = UInt64(settings.messageTimeout) * 1_000_000_000
        let idleLimit = UInt64(settings.connectionLifetime) * 1_000_000_000
        for connection in Array(connections.values) {
            if case .tls(let session) = connection.security, !connection.connecting,
               session.checkDeadline(nowMs: now.nanoseconds / 1_000_000) {
                // Logged by the session (peer, timeout); an outgoing one fails its branches like a connect.
                let c = counters(connection)
                c.handshakeTimeouts.add(1, ordering: .relaxed)
                c.handshakeFailures.add(1, ordering: .relaxed)
                closeConnection(connection, reason: "TLS handshake timeout")
                if connection.entry.outgoing { core.handleUnreachable(connection.entry.remote, worker: context) }
                continue
            }
            if connection.connecting {
                if connection.opened.nanoseconds(until: now) >= connectLimit {
                    connectFailed(connection, reason: "timeout after \(settings.connectTimeoutMs) ms")
                }
            } else if let since = connection.partialSince, since.nanoseconds(until: now) >= messageLimit {
                counters(connection).messageTimeouts.add(1, ordering: .relaxed)
                core.logger.info("closing \(connection.entry.transport.rawValue) connection: message not completed in time", metadata: [
                    LogMetadataKey.peer: "\(connection.entry.remote)", "tcp_max_msg_time": "\(settings.messageTimeout)",
                ])
                closeConnection(connection, reason: nil)
            } else if connection.pendingOutbound == 0, connection.lastActivity.nanoseconds(until: now) >= idleLimit {
                counters(connection).idleClosed.add(1, ordering: .relaxed)
                closeConnection(connection, reason: "idle for \(settings.connectionLifetime) s")
            }
        }
    }
}
