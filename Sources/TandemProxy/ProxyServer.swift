import Glibc
import Logging
import Reactor
import Synchronization

/// Runs the proxy: one worker thread per `udp_workers`, each with its own epoll reactor, all feeding one
/// `ProxyCore`. The workers either share one socket per listen address (each reactor watches it with an
/// exclusive wake-up) or each bind their own `SO_REUSEPORT` socket (``UDPSocketLayout``).
public final class ProxyServer: Sendable {
    /// The proxy core the workers feed.
    public let core: ProxyCore
    private let logger: Logger
    private let running = Mutex<[(thread: WorkerThread, handle: ReactorHandle)]>([])
    /// Runs on each worker thread before its loop starts (the server attaches per-worker state).
    private let onWorkerStart: (@Sendable (WorkerContext) -> Void)?
    /// Runs on each worker thread after its loop ended, before its reactor closes (the server releases
    /// per-worker state there, on the thread that owns it).
    private let onWorkerStop: (@Sendable (WorkerContext) -> Void)?

    public init(core: ProxyCore, logger: Logger = Logger(label: "tandem.server"),
                onWorkerStart: (@Sendable (WorkerContext) -> Void)? = nil,
                onWorkerStop: (@Sendable (WorkerContext) -> Void)? = nil) {
        self.core = core
        self.logger = logger
        self.onWorkerStart = onWorkerStart
        self.onWorkerStop = onWorkerStop
    }

    /// Binds every worker socket (so address errors surface here, before any thread starts) and starts
    /// the workers. Throws on bind errors.
    public func start() throws(IOError) {
        let settings = core.settings
        // SO_REUSEPORT would let a second process (another Tandem on the same port) share the address
        // silently and take half the traffic: probe each address without it first. (A shared socket is
        // bound without it, so the probe only costs a socket there.)
        for address in settings.listen where settings.socketLayout == .perWorker {
            let probe = try UDPSocket(family: address.family)
            try probe.bind(to: address, reusePort: false)
            probe.close()
        }
        // TCP: one SO_REUSEPORT listening socket per worker and address; probe first as for UDP.
        for address in settings.tcpListen + settings.tlsListen {
            let probe = try System.listeningStreamSocket(address, reusePort: false, backlog: 1)
            try? System.close(probe)
        }
        if settings.hasStreams { try fitDescriptorLimit(settings) }
        let socketsPerWorker: [[UDPSocket]]
        switch settings.socketLayout {
        case .shared:
            let sockets = try settings.listen.map { address throws(IOError) in
                try Self.openSocket(address, reusePort: false, settings: settings)
            }
            socketsPerWorker = Array(repeating: sockets, count: settings.workers)
        case .perWorker:
            var perWorker: [[UDPSocket]] = []
            for _ in 0..<settings.workers {
                perWorker.append(try settings.listen.map { address throws(IOError) in
                    try Self.openSocket(address, reusePort: true, settings: settings)
                })
            }
            socketsPerWorker = perWorker
        }
        // Every worker's reactor watches its sockets before any thread starts, so a socket that cannot
        // be watched fails the start instead of leaving a deaf worker.
        var boxes: [WorkerBox] = []
        for (index, sockets) in socketsPerWorker.enumerated() {
            do {
                boxes.append(try WorkerBox(index: index, sockets: sockets, core: core))
            } catch {
                for box in boxes { box.close() }
                throw error
            }
        }
        var started: [(WorkerThread, ReactorHandle)] = []
        for box in boxes {
            let core = self.core
            let logger = self.logger
            let onWorkerStart = self.onWorkerStart
            let onWorkerStop = self.onWorkerStop
            do {
                let thread = try WorkerThread(name: "tandem-udp-\(box.context.index)") {
                    Worker(box: box, core: core, logger: logger, onStart: onWorkerStart, onStop: onWorkerStop).run()
                }
                started.append((thread, box.reactor.handle))
            } catch {
                for (_, handle) in started { handle.stop() }
                for (thread, _) in started { thread.join() }
                for box in boxes[started.count...] { box.close() }
                throw error
            }
        }
        running.withLock { $0 = started.map { (thread: $0.0, handle: $0.1) } }
        logger.info("listening", metadata: [
            "sockets": "\((0..<settings.socketCount).compactMap { settings.socketName(at: $0) }.joined(separator: ","))",
            "udp_workers": "\(settings.workers)",
            "udp_sockets": "\(settings.socketLayout.rawValue)",
        ])
    }

    /// Opens and binds one listen socket with the configured receive buffer and the ICMP error queue on.
    /// Makes room for `tcp_max_connections` descriptors beside the rest (``DescriptorBudget``): the
    /// `RLIMIT_NOFILE` soft limit goes up to the hard limit when it is too low (logged); a hard limit too
    /// low fails the start with an error naming the limit and the count needed.
    private func fitDescriptorLimit(_ settings: ProxySettings) throws(IOError) {
        guard let limits = System.descriptorLimits() else { return }
        let needed = DescriptorBudget.needed(maxConnections: settings.stream.maxConnections)
        switch DescriptorBudget.plan(soft: limits.soft, hard: limits.hard, needed: needed) {
        case .enough:
            return
        case .raise(let from, let to):
            guard System.setDescriptorSoftLimit(to) else {
                throw IOError(errno: EPERM, function: DescriptorBudget.message(limit: from, needed: needed,
                                                                                 maxConnections: settings.stream.maxConnections))
            }
            logger.info("raised the RLIMIT_NOFILE soft limit to the hard limit to fit tcp_max_connections", metadata: [
                "from": "\(from)", "to": "\(to)", "needed": "\(needed)",
                "tcp_max_connections": "\(settings.stream.maxConnections)",
            ])
        case .insufficient(let hard):
            let text = DescriptorBudget.message(limit: hard, needed: needed, maxConnections: settings.stream.maxConnections)
            logger.error("\(text)")
            throw IOError(errno: EMFILE, function: text)
        }
    }

    private static func openSocket(_ address: SocketAddress, reusePort: Bool,
                                   settings: ProxySettings) throws(IOError) -> UDPSocket {
        let socket = try UDPSocket(bindingTo: address, reusePort: reusePort,
                                   receiveBufferSize: settings.receiveBufferBytes > 0 ? settings.receiveBufferBytes : nil)
        // ICMP errors for our sends come back on the error queue (503 for a dead next hop).
        try socket.enableErrorQueue()
        return socket
    }

    /// Stops every worker and waits for its thread to end.
    public func stop() {
        let workers = running.withLock { list -> [(thread: WorkerThread, handle: ReactorHandle)] in
            let copy = list
            list = []
            return copy
        }
        for worker in workers { worker.handle.stop() }
        for worker in workers { worker.thread.join() }
    }
}

/// One worker's reactor, context and receive batch, set up on the starting thread (the reactor
/// already watches the worker's sockets) and handed to the worker thread.
/// `@unchecked Sendable`: created on the starting thread and used only by the worker afterwards.
private final class WorkerBox: @unchecked Sendable {
    let reactor: Reactor
    let context: WorkerContext
    /// Datagrams read with one `recvmmsg(2)`; one byte longer than the largest accepted datagram, so a
    /// longer one shows as truncated.
    private let batch: DatagramBatch

    init(index: Int, sockets: [UDPSocket], core: ProxyCore) throws(IOError) {
        reactor = try Reactor()
        context = WorkerContext(index: index, reactor: reactor, sockets: sockets, counters: core.counters)
        context.onUnreachable = { [weak core] destination, worker in core?.handleUnreachable(destination, worker: worker) }
        // A shared socket is read one datagram at a time: a datagram taken into a batch would wait behind
        // one whose route blocks the worker, where another worker could have taken it.
        batch = DatagramBatch(capacity: core.settings.socketLayout == .perWorker ? Worker.batchCapacity : 1,
                              bufferSize: core.settings.maxDatagramSize + 1)
        let settings = core.settings
        if settings.hasStreams {
            do {
                let streams = try StreamWorker(context: context, core: core, listen: settings.streamSockets)
                context.streams = streams
                try streams.start()
            } catch {
                context.streams?.close()
                context.streams = nil
                reactor.close()
                throw error
            }
        }
        let interest: Interest = core.settings.socketLayout == .shared ? [.read, .exclusive] : .read
        for (socketIndex, socket) in sockets.enumerated() {
            do {
                _ = try reactor.register(fd: socket.fd, interest: interest) { [core, context, batch] events in
                    if events.contains(.error) { Worker.drainErrors(socket, core: core, context: context) }
                    Worker.drain(socket, socketIndex: socketIndex, batch: batch, core: core, context: context)
                }
            } catch {
                context.streams?.close()
                context.streams = nil
                reactor.close()
                throw error
            }
        }
    }

    /// Ends the worker: drops the registrations (their callbacks hold the batch, freed with the last).
    func close() {
        context.streams?.close()
        context.streams = nil
        reactor.close()
    }
}

/// The loop of one worker thread: read a batch of datagrams when a socket is readable, hand each to
/// the core. A shared socket is watched with an exclusive wake-up, so a datagram wakes one idle worker.
private struct Worker {
    let box: WorkerBox
    let core: ProxyCore
    let logger: Logger
    let onStart: (@Sendable (WorkerContext) -> Void)?
    let onStop: (@Sendable (WorkerContext) -> Void)?

    func run() {
        onStart?(box.context)
        if box.context.index == 0 { core.startMemoryTrim(on: box.context) }
        do {
            try box.reactor.run()
        } catch {
            logger.critical("worker reactor failed", metadata: ["worker": "\(box.context.index)", "error": "\(error)"])
        }
        onStop?(box.context)
        box.close()
    }

    /// Reads the socket's error queue (ICMP unreachable for datagrams we sent) and tells the core.
    static func drainErrors(_ socket: UDPSocket, core: ProxyCore, context: WorkerContext) {
        for _ in 0..<64 {
            let result: IOResult<UDPErrorReport>
            do {
                result = try socket.readError()
            } catch {
                continue  // an entry without a usable report was dequeued
            }
            guard case .processed(let report) = result else { return }
            core.counters.icmpErrors.add(1, ordering: .relaxed)
            if let destination = report.destination { core.handleUnreachable(destination, worker: context) }
        }
    }

    /// Datagrams per `recvmmsg(2)` on a per-worker socket (a shared one takes one at a time).
    static let batchCapacity = 16

    /// Reads up to 64 datagrams (fairness with timers and other fds), up to the batch's capacity per
    /// `recvmmsg(2)`, handing each to the core. A call that returns fewer than it could take found the
    /// queue empty: the loop ends without the extra call that would only say so (the socket is
    /// level-triggered, so what arrives meanwhile wakes a worker again).
    static func drain(_ socket: UDPSocket, socketIndex: Int, batch: DatagramBatch,
                      core: ProxyCore, context: WorkerContext) {
        for _ in 0..<(64 / batch.capacity) {
            let result: IOResult<Int>
            do {
                result = try socket.receive(batch: batch)
            } catch {
                core.counters.sendErrors.add(1, ordering: .relaxed)
                return
            }
            guard case .processed(let count) = result else { return }
            for index in 0..<count {
                guard let from = batch.sender(at: index) else { continue }
                if batch.isTruncated(at: index) {
                    core.counters.datagramsReceived.add(1, ordering: .relaxed)
                    core.counters.parseErrors.add(1, ordering: .relaxed)
                    core.logger.debug("dropping oversize datagram", metadata: [
                        LogMetadataKey.peer: "\(from)", LogMetadataKey.error: "message too large",
                    ])
                    continue
                }
                let bytes = [UInt8](batch.bytes(at: index))
                core.handleDatagram(bytes, from: from, socketIndex: socketIndex, worker: context)
            }
            if count < batch.capacity { return }
        }
    }
}
