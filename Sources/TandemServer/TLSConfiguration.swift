import TLSTransport

/// One `tls_mgm` TLS domain: its role, what it matches, its settings and the OpenSSL context built from them.
public struct TLSDomain: Sendable {
    /// The domain's name (`server_domain`/`client_domain` value; `default` for the implicit ones).
    public let name: String
    /// Server domains serve TLS sockets; client domains open connections to next hops.
    public let role: TLSRole
    /// `match_ip_address`: `IP:port` (servers: the local socket; clients: the remote peer) or `*` for any.
    public let matchAddresses: [String]
    /// `match_sip_domain`: SNI names (servers) or next-hop SIP domains (clients); `*.example.com`, or `*`.
    public let matchSIPDomains: [String]
    /// The settings the context was built from.
    public let settings: TLSContextConfiguration
    /// The context sessions of this domain are made from.
    public let context: TLSContext

    /// True if the domain matches address `address` (`IP:port`).
    public func matches(address: String) -> Bool {
        matchAddresses.contains { $0 == "*" || $0 == address || ($0.firstIndex(of: ":") == nil && address.hasPrefix($0 + ":")) }
    }

    /// True if the domain matches host name `name` (case-insensitive; `*.example.com` matches one or more labels).
    public func matches(sipDomain name: String) -> Bool {
        let name = name.lowercased()
        return matchSIPDomains.contains { pattern in
            let pattern = pattern.lowercased()
            if pattern == "*" || pattern == name { return true }
            return pattern.hasPrefix("*.") && name.hasSuffix(String(pattern.dropFirst()))
        }
    }

    var isCatchAll: Bool { matchAddresses.contains("*") }
}

/// The TLS domains of a script (`loadmodule "tls_mgm.so"` and its `[domain]`-prefixed modparams), with
/// contexts already built (files read, keys checked), and how a connection picks its domain.
///
/// ```swift
/// let domain = tls.serverDomain(local: "10.0.0.1:5061", serverName: sniFromClientHello)
/// let session = try domain?.context.makeSession(peer: "192.0.2.7:40312", nowMs: now)
/// ```
public struct TLSConfiguration: Sendable {
    /// Server domains in script order; an implicit `default` one (matching `*`) last when the script gave
    /// a certificate without a `[domain]` prefix.
    public let serverDomains: [TLSDomain]
    /// Client domains in script order; an implicit `default` one (matching `*`) last unless one matches `*`.
    public let clientDomains: [TLSDomain]
    /// Milliseconds a handshake may take (`proto_tls`/`tls_mgm` `tls_handshake_timeout`, default 5000).
    public let handshakeTimeoutMs: UInt64

    /// The server domain for a connection accepted on `local` (`IP:port`) whose ClientHello asked for
    /// `serverName` (SNI): a domain matching both first, then the address, then a catch-all (`*`) domain.
    public func serverDomain(local: String, serverName: String? = nil) -> TLSDomain? {
        pick(serverDomains, address: local, name: serverName)
    }

    /// The client domain for a connection to `remote` (`IP:port`) for SIP domain `sipDomain`.
    public func clientDomain(remote: String, sipDomain: String? = nil) -> TLSDomain? {
        pick(clientDomains, address: remote, name: sipDomain)
    }

    /// The domain named `name` of `role` (`client_tls_domain_avp` style selection).
    public func domain(named name: String, role: TLSRole) -> TLSDomain? {
        (role == .server ? serverDomains : clientDomains).first { $0.name == name }
    }

    private func pick(_ domains: [TLSDomain], address: String, name: String?) -> TLSDomain? {
        if let name, let both = domains.first(where: { !$0.isCatchAll && $0.matches(address: address) && $0.matches(sipDomain: name) }) {
            return both
        }
        if let exact = domains.first(where: { !$0.isCatchAll && $0.matches(address: address) && $0.matchSIPDomains.isEmpty }) {
            return exact
        }
        if let name, let byName = domains.first(where: { $0.matchAddresses.isEmpty && $0.matches(sipDomain: name) }) {
            return byName
        }
        if let name, let wildcard = domains.first(where: { $0.isCatchAll && $0.matches(sipDomain: name) }) {
            return wildcard
        }
        return domains.first { $0.isCatchAll && ($0.matchSIPDomains.isEmpty || $0.matchSIPDomains.contains("*")) }
    }
}
