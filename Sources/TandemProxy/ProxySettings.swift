import Reactor
import SIPTransaction

/// The proxy core's settings, taken from the global parameters of the routing script.
public struct ProxySettings: Sendable {
    /// UDP addresses to listen on (`socket=udp:IP:PORT`, `listen=`); the first is advertised in Via and Record-Route.
    public var listen: [SocketAddress]
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

    public init(
        listen: [SocketAddress],
        workers: Int = 4,
        timers: TimerSettings = .standard,
        maxDatagramSize: Int = 65_535,
        serverHeader: String? = "Tandem",
        aliases: [String] = [],
        receiveBufferBytes: Int = 4 << 20,
        socketLayout: UDPSocketLayout = .shared
    ) {
        self.listen = listen
        self.workers = max(1, workers)
        self.timers = timers
        self.maxDatagramSize = maxDatagramSize
        self.serverHeader = serverHeader
        self.aliases = aliases
        self.receiveBufferBytes = receiveBufferBytes
        self.socketLayout = socketLayout
    }
}
