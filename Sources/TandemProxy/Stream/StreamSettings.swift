/// The TCP parameters of the routing script (`tcp_*` core globals), for every stream connection.
public struct StreamSettings: Sendable, Equatable {
    /// Largest message accepted on a stream, headers and body (`tcp_max_msg_size`). Default 131,072
    /// bytes: a 70 KB message passes without configuration.
    public var maxMessageSize: Int
    /// Seconds a peer may take to send the rest of a message it started (`tcp_max_msg_time`); the
    /// connection is closed after it. Default 4 s.
    public var messageTimeout: Int
    /// Seconds a connection may stay idle before it is closed (`tcp_connection_lifetime`). Default 120 s.
    public var connectionLifetime: Int
    /// Milliseconds an outgoing connect may take (`tcp_connect_timeout`). Default 1,000 ms (enough for
    /// a next hop across a WAN; OpenSIPS uses 100 ms).
    public var connectTimeoutMs: Int
    /// Stream connections open at most, accepted and outgoing (`tcp_max_connections`). Default 2,048.
    public var maxConnections: Int
    /// Bytes queued for one connection whose peer does not read, past which sends to it fail.
    public var maxOutboundBytes: Int
    /// Requests for a next hop that names no transport and larger than this over UDP go over TCP when
    /// the proxy has a TCP socket (`udp_mtu`, RFC 3261 §18.1.1; 0 turns it off). Default 1,300 bytes.
    public var udpMTU: Int
    /// Honour the Via `alias` parameter (RFC 5923, `tcp_accept_aliases`): off by default, as in
    /// OpenSIPS (an end user could otherwise claim another user's address).
    public var acceptAliases = false
    /// Insert two Record-Route headers when a request changes transport or interface
    /// (`modparam("rr", "enable_double_rr", 1)`, on by default).
    public var doubleRecordRoute: Bool

    public init(maxMessageSize: Int = 131_072, messageTimeout: Int = 4, connectionLifetime: Int = 120,
                connectTimeoutMs: Int = 1_000, maxConnections: Int = 2_048, maxOutboundBytes: Int = 1 << 20,
                udpMTU: Int = 1_300, doubleRecordRoute: Bool = true) {
        self.udpMTU = max(0, udpMTU)
        self.maxMessageSize = max(1_024, maxMessageSize)
        self.messageTimeout = max(1, messageTimeout)
        self.connectionLifetime = max(1, connectionLifetime)
        self.connectTimeoutMs = max(10, connectTimeoutMs)
        self.maxConnections = max(1, maxConnections)
        self.maxOutboundBytes = max(65_536, maxOutboundBytes)
        self.doubleRecordRoute = doubleRecordRoute
    }
}

/// The transport of a listen socket or a next hop.
public enum SIPTransport: String, Sendable, Hashable {
    case udp
    case tcp
    case tls

    /// The Via transport token (`SIP/2.0/TCP`).
    public var viaToken: String { rawValue.uppercased() }

    /// True for stream transports (reliable: no request retransmissions, RFC 3261 §17.1.1.2).
    public var isReliable: Bool { self != .udp }
}
