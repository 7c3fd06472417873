import Reactor
import Synchronization

/// The stream connections of all workers: the connection table (by id, and by remote address and
/// transport), the workers that own them, and the transport counters. Shared by every worker; a
/// connection itself is only ever touched by the worker that owns it (``StreamWorker``), so a send
/// from another worker is handed to the owner with ``ReactorHandle/execute(_:)``.
public final class StreamHub: Sendable {
    /// What the table knows of one connection.
    public struct Entry: Sendable, Equatable {
        /// The connection id (never reused).
        public let id: UInt64
        /// The worker that owns it (reads, writes, closes it).
        public let worker: Int
        /// The peer.
        public let remote: SocketAddress
        /// The local listen socket it belongs to (index into the proxy's socket list).
        public let socketIndex: Int
        /// Its transport.
        public let transport: SIPTransport
        /// True for a connection Tandem opened (to a next hop or back to a client).
        public let outgoing: Bool
    }

    /// The key of a connection by peer: one connection per remote address and transport is reused.
    public struct Key: Hashable, Sendable {
        public let remote: SocketAddress
        public let transport: SIPTransport
        public init(remote: SocketAddress, transport: SIPTransport) {
            self.remote = remote
            self.transport = transport
        }
    }

    private struct Table {
        var byID: [UInt64: Entry] = [:]
        var byKey: [Key: UInt64] = [:]
        /// Extra keys of a connection (RFC 5923 aliases), removed with it.
        var aliases: [UInt64: [Key]] = [:]
        /// Peers a worker is opening a connection to (claimed before its connect starts, cleared when
        /// the connection enters the table or the connect could not start).
        var claims: [Key: Int] = [:]
    }

    /// A worker's stream side and the handle to reach its thread.
    struct WorkerSlot: @unchecked Sendable {
        let worker: StreamWorker
        let handle: ReactorHandle
    }

    /// The TCP settings.
    public let settings: StreamSettings
    private let table = Mutex(Table())
    private let slots = Mutex<[Int: WorkerSlot]>([:])
    private let nextID = Atomic<UInt64>(1)
    /// Connections open now (accepted and outgoing, every transport).
    let openCount = Atomic<Int>(0)
    /// True while the `tcp_max_connections` warning was logged and the limit still holds.
    let limitLogged = Atomic<Bool>(false)
    /// The TCP counters.
    public let counters = StreamCounters()
    /// The TLS counters (handshake figures included).
    public let tlsCounters = StreamCounters()
    /// Makes TLS sessions; nil without TLS.
    let tls: StreamTLS?
    /// Host names of TLS next hops by address (SNI for a connection opened to them), bounded.
    private let serverNames = Mutex<[SocketAddress: String]>([:])

    init(settings: StreamSettings, tls: StreamTLS? = nil) {
        self.settings = settings
        self.tls = tls
    }

    /// The counters of `transport` (TLS or TCP).
    @inline(__always)
    public func counters(for transport: SIPTransport) -> StreamCounters {
        transport == .tls ? tlsCounters : counters
    }

    /// Remembers that `addresses` were located for TLS next hop `host` (its SNI name and client domain).
    func noteServerName(_ host: String, for addresses: [SocketAddress]) {
        serverNames.withLock { names in
            if names.count > 4_096 { names.removeAll(keepingCapacity: true) }
            for address in addresses { names[address] = host }
        }
    }

    /// The host name a TLS next hop at `address` was located from, if any.
    func serverName(for address: SocketAddress) -> String? {
        serverNames.withLock { $0[address] }
    }

    /// A new connection id.
    func makeID() -> UInt64 { nextID.add(1, ordering: .relaxed).oldValue }

    /// Number of connections open now.
    public var connectionCount: Int { openCount.load(ordering: .relaxed) }

    /// The connection to `remote` over `transport`, if one is open.
    public func connection(to remote: SocketAddress, transport: SIPTransport = .tcp) -> Entry? {
        table.withLock { table in
            table.byKey[Key(remote: remote, transport: transport)].flatMap { table.byID[$0] }
        }
    }

    /// The connection with this id, if open.
    public func connection(id: UInt64) -> Entry? {
        table.withLock { $0.byID[id] }
    }

    /// Every open connection (operations, tests).
    public var entries: [Entry] { table.withLock { Array($0.byID.values) } }

    /// Records a connection; the newest connection to a peer is the one reused.
    func insert(_ entry: Entry) {
        table.withLock { table in
            table.byID[entry.id] = entry
            let key = Key(remote: entry.remote, transport: entry.transport)
            table.byKey[key] = entry.id
            table.claims[key] = nil
        }
    }

    /// The worker that sends to `remote`: the owner of the open connection to it, else the worker
    /// already opening one, else `worker`, which then claims the peer and must open the connection
    /// (or ``releaseClaim(_:transport:)`` when it cannot). So two workers relaying to the same next hop
    /// at once end with one connection: the second hands its message to the first.
    func sender(for remote: SocketAddress, transport: SIPTransport = .tcp, worker: Int) -> Int {
        table.withLock { table in
            let key = Key(remote: remote, transport: transport)
            if let id = table.byKey[key], let entry = table.byID[id] { return entry.worker }
            if let claimant = table.claims[key] { return claimant }
            table.claims[key] = worker
            return worker
        }
    }

    /// Drops a claim whose connect did not start (the next sender opens anew).
    func releaseClaim(_ remote: SocketAddress, transport: SIPTransport = .tcp) {
        _ = table.withLock { $0.claims.removeValue(forKey: Key(remote: remote, transport: transport)) }
    }

    /// Drops every claim of a worker that stops.
    func releaseClaims(of worker: Int) {
        table.withLock { table in table.claims = table.claims.filter { $0.value != worker } }
    }

    /// Makes the connection to `peer` reachable as `alias` too (RFC 5923 Via `alias`).
    func addAlias(_ alias: SocketAddress, forPeer peer: SocketAddress, transport: SIPTransport = .tcp) {
        table.withLock { table in
            guard let id = table.byKey[Key(remote: peer, transport: transport)] else { return }
            let key = Key(remote: alias, transport: transport)
            guard table.byKey[key] != id else { return }
            table.byKey[key] = id
            table.aliases[id, default: []].append(key)
        }
    }

    /// Forgets a connection (its key too, unless a newer connection to the peer took it).
    func remove(_ entry: Entry) {
        table.withLock { table in
            table.byID[entry.id] = nil
            for alias in table.aliases.removeValue(forKey: entry.id) ?? [] where table.byKey[alias] == entry.id {
                table.byKey[alias] = nil
            }
            let key = Key(remote: entry.remote, transport: entry.transport)
            if table.byKey[key] == entry.id {
                // Another open connection to the same peer takes over the key.
                table.byKey[key] = table.byID.values.first { $0.remote == entry.remote && $0.transport == entry.transport }?.id
            }
        }
    }

    /// The figures of `/stats` `tcp` or `tls` (see `OperationsSnapshot.tcp`, `OperationsSnapshot.tls`).
    public func snapshot(_ transport: SIPTransport = .tcp) -> [String: Int] {
        let c = counters(for: transport)
        var figures = [
            "open": c.open.load(ordering: .relaxed),
            "accepted": c.accepted.load(ordering: .relaxed), "connected": c.connected.load(ordering: .relaxed),
            "refused": c.refused.load(ordering: .relaxed), "connect_failures": c.connectFailures.load(ordering: .relaxed),
            "framing_errors": c.framingErrors.load(ordering: .relaxed),
            "message_timeouts": c.messageTimeouts.load(ordering: .relaxed),
            "idle_closed": c.idleClosed.load(ordering: .relaxed), "pings": c.pings.load(ordering: .relaxed),
            "outbound_overflows": c.outboundOverflows.load(ordering: .relaxed),
            "bytes_in": c.bytesIn.load(ordering: .relaxed), "bytes_out": c.bytesOut.load(ordering: .relaxed),
        ]
        if transport == .tls {
            figures["handshakes"] = c.handshakes.load(ordering: .relaxed)
            figures["handshake_failures"] = c.handshakeFailures.load(ordering: .relaxed)
            figures["handshake_timeouts"] = c.handshakeTimeouts.load(ordering: .relaxed)
            figures["certificate_failures"] = c.certificateFailures.load(ordering: .relaxed)
        }
        return figures
    }

    func attach(_ worker: StreamWorker, index: Int, handle: ReactorHandle) {
        slots.withLock { $0[index] = WorkerSlot(worker: worker, handle: handle) }
    }

    func detach(index: Int) {
        _ = slots.withLock { $0.removeValue(forKey: index) }
        releaseClaims(of: index)
    }

    /// Runs `body` on the thread of worker `index` with its stream side; false if that worker is gone.
    func dispatch(to index: Int, _ body: @escaping @Sendable (StreamWorker) -> Void) -> Bool {
        guard let slot = slots.withLock({ $0[index] }) else { return false }
        let worker = slot.worker
        let box = UncheckedBox(worker)
        return slot.handle.execute { body(box.value) }
    }
}

/// A reference handed to its own worker's thread.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The counters of one stream transport (`/stats`, metrics).
public final class StreamCounters: Sendable {
    /// Connections of this transport open now.
    public let open = Atomic<Int>(0)
    /// Connections accepted from peers.
    public let accepted = Atomic<Int>(0)
    /// Connections opened to peers (connect started).
    public let connected = Atomic<Int>(0)
    /// Connections refused: `tcp_max_connections` reached.
    public let refused = Atomic<Int>(0)
    /// Outgoing connects that failed or timed out.
    public let connectFailures = Atomic<Int>(0)
    /// Connections closed for a framing error (no or bad Content-Length, too large, garbage).
    public let framingErrors = Atomic<Int>(0)
    /// Connections closed because a message did not complete in `tcp_max_msg_time`.
    public let messageTimeouts = Atomic<Int>(0)
    /// Connections closed after `tcp_connection_lifetime` idle.
    public let idleClosed = Atomic<Int>(0)
    /// Keep-alive pings answered.
    public let pings = Atomic<Int>(0)
    /// Sends refused because the connection's outbound queue was full.
    public let outboundOverflows = Atomic<Int>(0)
    /// Bytes read from and written to stream connections.
    public let bytesIn = Atomic<Int>(0)
    public let bytesOut = Atomic<Int>(0)
    /// TLS handshakes completed (accepted and outgoing).
    public let handshakes = Atomic<Int>(0)
    /// TLS handshakes that failed (protocol error, bad certificate, timeout, plain text on a TLS port).
    public let handshakeFailures = Atomic<Int>(0)
    /// TLS handshakes not finished within `tls_handshake_timeout` (counted in the failures too).
    public let handshakeTimeouts = Atomic<Int>(0)
    /// TLS handshakes that failed on the peer's certificate (counted in the failures too).
    public let certificateFailures = Atomic<Int>(0)
}
