import Reactor
import TLSTransport
import TandemProxy

extension StreamTLS {
    /// Sessions from the script's `tls_mgm` domains: an accepted connection takes the server domain of
    /// its local socket (`match_ip_address`; the SNI name may switch it to a `match_sip_domain` domain
    /// during the handshake); an outgoing one the client domain of the next hop's address and host name,
    /// which also goes in SNI.
    init(configuration tls: TLSConfiguration) {
        self.init(
            serverSession: { local, peer, nowMs in
                guard let domain = tls.serverDomain(local: Self.text(local)) else { return nil }
                return try domain.context.makeSession(peer: "\(peer)", nowMs: nowMs)
            },
            clientSession: { remote, serverName, nowMs in
                guard let domain = tls.clientDomain(remote: Self.text(remote), sipDomain: serverName) else { return nil }
                return try domain.context.makeSession(peer: "\(remote)", serverName: domain.settings.serverName ?? serverName,
                                                      nowMs: nowMs)
            })
    }

    /// `IP:port` as `match_ip_address` writes it (IPv6 without brackets).
    private static func text(_ address: SocketAddress) -> String { "\(address.ip):\(address.port)" }
}
