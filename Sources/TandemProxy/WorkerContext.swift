import Synchronization
import Reactor

/// What the packet path needs from the worker it runs on: its reactor (for timers) and its transport
/// (to send: the UDP sockets, or an in-memory capture in tests). Passed down explicitly.
///
/// `@unchecked Sendable`: it may be captured by closures handed to its own reactor (timers,
/// completions posted with `execute`), but it is only ever used on its worker's thread.
public final class WorkerContext: @unchecked Sendable {
    /// The worker number (0-based).
    public let index: Int
    /// The worker's reactor.
    public let reactor: Reactor
    /// How the worker sends: one UDP socket per listen address, or the in-memory capture.
    let transport: WorkerTransport
    let counters: ProxyCounters
    /// The worker's TCP connections and listening sockets (nil without `socket=tcp:`). A socket index
    /// past the UDP sockets is a TCP socket: sends to it go here.
    var streams: StreamWorker?
    /// Called (later, from the reactor) with the destination of each ICMP report read while sending.
    var onUnreachable: ((SocketAddress, WorkerContext) -> Void)?
    /// Destinations of ICMP reports read during a send, not yet handed to `onUnreachable`.
    private var unreachable: [SocketAddress] = []
    /// Sends held while a transaction's lock is taken (``holdSends()``); sent in order at the release.
    private var held: [(bytes: [UInt8], address: SocketAddress, socketIndex: Int)] = []
    private var holdDepth = 0
    /// Work that must not run under a transaction's lock (``afterUnlock(_:)``), run after the held sends.
    private var deferred: [() -> Void] = []
    private var runningDeferred = false

    init(index: Int, reactor: Reactor, sockets: [UDPSocket], counters: ProxyCounters) {
        self.index = index
        self.reactor = reactor
        self.transport = .udp(sockets)
        self.counters = counters
    }

    /// A worker with no sockets for driving `core` in memory: what the core sends goes to `transport`,
    /// and its timers run on `reactor` (give it a `ManualClock` and call `runOnce(timeoutMs: 0)` to fire
    /// them without sleeping). Use it on one thread only, the reactor's.
    public init(index: Int = 0, reactor: Reactor, memory transport: MemoryTransport, core: ProxyCore) {
        self.index = index
        self.reactor = reactor
        self.transport = .memory(transport)
        self.counters = core.counters
        self.onUnreachable = { [weak core] destination, worker in core?.handleUnreachable(destination, worker: worker) }
    }

    /// Sends one datagram from listen socket `socketIndex`. Returns false if it could not be sent.
    ///
    /// A pending ICMP error for another datagram never fails it: the socket's error queue is drained
    /// and the send retried (``UDPSocket/send(_:to:reports:)-(UnsafeRawBufferPointer,_,_)``). The reports
    /// read meanwhile go to `onUnreachable` from a reactor callback of their own, since the caller may
    /// hold the lock of a transaction the report fails.
    ///
    /// While sends are held (a transaction's lock is taken) the datagram is queued and true returned:
    /// a failure then only shows in `sendErrors`.
    @discardableResult
    func send(_ bytes: [UInt8], to address: SocketAddress, socketIndex: Int = 0) -> Bool {
        if holdDepth > 0 {
            held.append((bytes, address, socketIndex))
            return true
        }
        return transmit(bytes, to: address, socketIndex: socketIndex)
    }

    /// From now until the matching ``releaseSends()``, sends are queued instead of made (nestable).
    func holdSends() { holdDepth += 1 }

    /// Ends one ``holdSends()``; the outermost one sends what was queued, in order. The queue keeps its
    /// capacity, so a held send allocates nothing once the worker warmed up.
    func releaseSends() {
        holdDepth -= 1
        guard holdDepth == 0 else { return }
        if !held.isEmpty {
            var index = 0
            while index < held.count {
                let datagram = held[index]
                transmit(datagram.bytes, to: datagram.address, socketIndex: datagram.socketIndex)
                index += 1
            }
            held.removeAll(keepingCapacity: true)
        }
        runDeferred()
    }

    /// Runs `work` once no transaction lock is held on this worker: at the outermost ``releaseSends()``
    /// (after the held sends, in the order deferred), or at once when nothing is held. Used for what may
    /// take a lock itself or run script code: `local_route`, the cancel hooks of async jobs.
    func afterUnlock(_ work: @escaping () -> Void) {
        deferred.append(work)
        if holdDepth == 0 { runDeferred() }
    }

    /// Work deferred while it runs (it may take a transaction lock and defer more) joins the same loop.
    private func runDeferred() {
        guard !runningDeferred, !deferred.isEmpty else { return }
        runningDeferred = true
        defer { runningDeferred = false }
        var index = 0
        while index < deferred.count {
            let work = deferred[index]
            index += 1
            work()
        }
        deferred.removeAll(keepingCapacity: true)
    }

    @discardableResult
    private func transmit(_ bytes: [UInt8], to address: SocketAddress, socketIndex: Int) -> Bool {
        let socket: UDPSocket
        switch transport {
        case .udp(let sockets):
            if socketIndex < sockets.count {
                socket = sockets[socketIndex]
            } else if let streams {
                if streams.send(bytes, to: address, socketIndex: socketIndex) { return true }
                counters.sendErrors.add(1, ordering: .relaxed)
                return false
            } else {
                socket = sockets[0]
            }
        case .memory(let memory):
            if memory.send(bytes, to: address, socketIndex: socketIndex) { return true }
            counters.sendErrors.add(1, ordering: .relaxed)
            return false
        }
        do {
            switch try socket.send(bytes, to: address, reports: deferUnreachable) {
            case .processed: return true
            case .wouldBlock:
                counters.sendErrors.add(1, ordering: .relaxed)
                return false
            }
        } catch {
            counters.sendErrors.add(1, ordering: .relaxed)
            return false
        }
    }

    private func deferUnreachable(_ report: UDPErrorReport) {
        counters.icmpErrors.add(1, ordering: .relaxed)
        guard let destination = report.destination else { return }
        if unreachable.isEmpty {
            _ = reactor.schedule(afterMilliseconds: 0) { [weak self] in self?.flushUnreachable() }
        }
        unreachable.append(destination)
    }

    private func flushUnreachable() {
        let destinations = unreachable
        unreachable = []
        for destination in destinations { onUnreachable?(destination, self) }
    }
}
