import Reactor
import TLSTransport

/// Where a TLS connection's session comes from: the server builds one from its `tls_mgm` domains
/// (server domain by local socket, SNI picked by the context; client domain by next hop and SIP
/// domain). Nil from either means no domain fits: the connection is refused and logged.
public struct StreamTLS: Sendable {
    /// A server session for a connection accepted on `local` from `peer`; `nowMs` starts its handshake clock.
    public var serverSession: @Sendable (_ local: SocketAddress, _ peer: SocketAddress, _ nowMs: UInt64) throws -> TLSSession?
    /// A client session for a connection to `remote`; `serverName` (the next hop's host name, when it
    /// had one) goes in SNI and picks the client domain.
    public var clientSession: @Sendable (_ remote: SocketAddress, _ serverName: String?, _ nowMs: UInt64) throws -> TLSSession?

    public init(serverSession: @escaping @Sendable (SocketAddress, SocketAddress, UInt64) throws -> TLSSession?,
                clientSession: @escaping @Sendable (SocketAddress, String?, UInt64) throws -> TLSSession?) {
        self.serverSession = serverSession
        self.clientSession = clientSession
    }
}
