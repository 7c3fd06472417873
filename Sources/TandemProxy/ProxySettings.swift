import DNSResolver
import Reactor
import SIPTransaction

/// The proxy core's settings, taken from the global parameters of the routing script.
public struct ProxySettings: Sendable {
    /// UDP addresses to listen on (`socket=udp:IP:PORT`, `listen=`); the first is advertised in Via and Record-Route.
    public var listen: [SocketAddress]
    /// TCP addresses to listen on (`socket=tcp:IP:PORT`). Socket indexes count the UDP sockets first,
    /// then these: TCP socket `i` has index `listen.count + i`.
    public var tcpListen: [SocketAddress] = []
    /// TLS addresses to listen on (`socket=tls:IP:PORT`); TLS socket `i` has index
    /// `listen.count + tcpListen.count + i`.
    public var tlsListen: [SocketAddress] = []
    /// Makes the TLS sessions of TLS connections (from the `tls_mgm` domains); nil without TLS.
    public var tls: StreamTLS?
    /// The TCP parameters (`tcp_*`, `enable_double_rr`).
    public var stream = StreamSettings()
    /// Number of UDP worker threads (`udp_workers`, `children`).
    public var workers: Int
    /// RFC 3261 timer values (T1, T2, T4, Timer D, Timer C).
    public var timers: TimerSettings
    /// Largest datagram accepted; bigger ones are counted as parse errors.
    public var maxDatagramSize: Int
    /// Value of the `Server:` header in locally generated replies (nil: none).
    public var serverHeader: String?
    /// Extra host names (`alias=`) that count as this proxy for `is_myself` and loose routing.
    public var aliases: [String]
    /// Socket receive buffer size to request per socket (0: kernel default).
    public var receiveBufferBytes: Int
    /// Whether the workers read one shared socket per listen address or one socket each.
    public var socketLayout: UDPSocketLayout
    /// Server transactions waiting for a final reply past which a new INVITE gets 503 (0: no bound).
    /// `modparam("tandem", "max_transactions", N)`.
    public var maxTransactions: Int
    /// Transactions suspended on async operations past which a new INVITE gets 503 (0: no bound).
    /// `modparam("tandem", "max_suspended", N)`.
    public var maxSuspended: Int
    /// Retry-After seconds of that 503. `modparam("tandem", "overload_retry_after", N)`.
    public var overloadRetryAfter: Int
    /// The resolver every worker uses for next hops given by name (settings from the core `dns_*`
    /// parameters, shared cache and counters).
    public var dns: DNSEnvironment = DNSEnvironment.shared
    /// The registrar and location service parameters (`modparam("registrar"|"usrloc", …)`).
    public var registrar: RegistrarSettings

    /// Default ``maxTransactions``: a 2-core machine relays about 2,000 calls/s; 40,000 transactions
    /// waiting for a final reply is 20 s of that, or a silent next hop taking 1,250 INVITEs/s through
    /// Timer B (32 s).
    public static let defaultMaxTransactions = 40_000
    /// Default ``maxSuspended``: 20 s of async() at 1,000 calls/s.
    public static let defaultMaxSuspended = 20_000

    public init(
        listen: [SocketAddress],
        workers: Int = 4,
        timers: TimerSettings = .standard,
        maxDatagramSize: Int = 65_535,
        serverHeader: String? = "Tandem",
        aliases: [String] = [],
        receiveBufferBytes: Int = 4 << 20,
        socketLayout: UDPSocketLayout = .shared,
        maxTransactions: Int = ProxySettings.defaultMaxTransactions,
        maxSuspended: Int = ProxySettings.defaultMaxSuspended,
        overloadRetryAfter: Int = 5,
        registrar: RegistrarSettings = RegistrarSettings()
    ) {
        self.listen = listen
        self.workers = max(1, workers)
        self.timers = timers
        self.maxDatagramSize = maxDatagramSize
        self.serverHeader = serverHeader
        self.aliases = aliases
        self.receiveBufferBytes = receiveBufferBytes
        self.socketLayout = socketLayout
        self.maxTransactions = max(0, maxTransactions)
        self.maxSuspended = max(0, maxSuspended)
        self.overloadRetryAfter = max(0, overloadRetryAfter)
        self.registrar = registrar
    }
}

extension ProxySettings {
    /// Number of listen sockets, every transport.
    public var socketCount: Int { listen.count + tcpListen.count + tlsListen.count }

    /// True when the proxy has a stream socket (TCP or TLS).
    public var hasStreams: Bool { !tcpListen.isEmpty || !tlsListen.isEmpty }

    /// The stream listen sockets with their indexes (TCP then TLS).
    public var streamSockets: [(socketIndex: Int, address: SocketAddress)] {
        (tcpListen + tlsListen).enumerated().map { (socketIndex: listen.count + $0.offset, address: $0.element) }
    }

    /// The transport of listen socket `socketIndex` (UDP for an index past the end).
    @inline(__always)
    public func transport(at socketIndex: Int) -> SIPTransport {
        if socketIndex < listen.count || socketIndex >= socketCount { return .udp }
        return socketIndex < listen.count + tcpListen.count ? .tcp : .tls
    }

    /// The transports the proxy has listen sockets for, as RFC 3263 server location names them.
    var locatorTransports: Set<SIPLocatorTransport> {
        var transports: Set<SIPLocatorTransport> = []
        for index in 0..<socketCount {
            if let transport = SIPLocatorTransport(rawValue: transport(at: index).rawValue) { transports.insert(transport) }
        }
        return transports
    }

    /// The local address of listen socket `socketIndex`.
    public func socketAddress(at socketIndex: Int) -> SocketAddress? {
        if socketIndex >= 0 && socketIndex < listen.count { return listen[socketIndex] }
        let tcp = socketIndex - listen.count
        if tcp >= 0 && tcp < tcpListen.count { return tcpListen[tcp] }
        let tls = tcp - tcpListen.count
        return tls >= 0 && tls < tlsListen.count ? tlsListen[tls] : nil
    }

    /// `proto:IP:PORT` of listen socket `socketIndex` (`$socket_in`, logs).
    public func socketName(at socketIndex: Int) -> String? {
        socketAddress(at: socketIndex).map { "\(transport(at: socketIndex).rawValue):\($0)" }
    }

    /// The index of the listen socket `transport` (`udp`, `tcp`) on `address`, if there is one.
    public func socketIndex(transport name: String, address: SocketAddress) -> Int? {
        for index in 0..<socketCount where transport(at: index).rawValue == name.lowercased() {
            if socketAddress(at: index) == address { return index }
        }
        return nil
    }

    /// The listen socket to send on for a next hop reached over `wanted` (nil: UDP, RFC 3263 for a `sip:`
    /// URI without `transport`) from a request that came in on `incoming`: the incoming socket when it
    /// fits, else the first socket of that transport and family, else of that transport; the incoming
    /// socket when no socket has that transport.
    public func outgoingSocket(for wanted: SIPTransport?, family: SocketAddress.Family, incoming: Int) -> Int {
        let wanted = wanted ?? .udp
        if transport(at: incoming) == wanted, socketAddress(at: incoming)?.family == family { return incoming }
        var fallback: Int?
        for index in 0..<socketCount where transport(at: index) == wanted {
            if socketAddress(at: index)?.family == family { return index }
            if fallback == nil { fallback = index }
        }
        return fallback ?? incoming
    }
}
