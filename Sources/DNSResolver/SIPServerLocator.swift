import Reactor

/// The outcome of locating a SIP server (RFC 3263 §4).
public enum SIPLocation: Sendable, Hashable {
    /// Addresses to try, in order (the first one first; the rest for failover).
    case targets([SocketAddress])
    /// The name does not exist or has no usable records (negative answers).
    case notFound
    /// The name servers did not answer usably (timeout, SERVFAIL…).
    case failure(DNSFailure)
}

/// A transport of RFC 3263 as the locator names it (the proxy maps it to its own).
public enum SIPLocatorTransport: String, Sendable, Hashable, CaseIterable {
    case udp, tcp, tls

    /// The NAPTR service field that selects it (RFC 3263 §4.1).
    public var naptrService: String {
        switch self {
        case .udp: return "SIP+D2U"
        case .tcp: return "SIP+D2T"
        case .tls: return "SIPS+D2T"
        }
    }

    /// The SRV owner prefix (`_sip._udp.`, `_sip._tcp.`, `_sips._tcp.`).
    public var srvPrefix: String {
        switch self {
        case .udp: return "_sip._udp."
        case .tcp: return "_sip._tcp."
        case .tls: return "_sips._tcp."
        }
    }

    init?(naptrService service: String) {
        switch service.uppercased() {
        case "SIP+D2U": self = .udp
        case "SIP+D2T": self = .tcp
        case "SIPS+D2T": self = .tls
        default: return nil
        }
    }
}

/// RFC 3263 §4 client procedures over a worker's ``DNSResolver``:
/// - transport (§4.1): the URI's `transport` wins; a numeric host or an explicit port means UDP
///   (TLS for `sips:`); otherwise NAPTR (with `dns_try_naptr`) — the best order/preference record
///   with flag "S" whose service (`SIP+D2U`, `SIP+D2T`, `SIPS+D2T`; only `SIPS+D2T` for `sips:`)
///   names a transport the caller has a socket for, its replacement the SRV owner; without a usable
///   NAPTR, SRV `_sip._udp`, `_sip._tcp`, `_sips._tcp` of the host for each supported transport in
///   that order (`_sips._tcp` only for `sips:`), the first with records wins;
/// - a numeric host needs no DNS (the caller passes `maddr` as the host when present);
/// - a URI with a port skips NAPTR and SRV: A (and AAAA with `dns_try_ipv6`) of the host;
/// - a transport given without a port: SRV of that transport only;
/// - SRV records are ordered by priority and RFC 2782 weights (``SRVOrdering``), each target's
///   addresses get the SRV port; no SRV record: A/AAAA of the host with the default port (5060,
///   5061 for TLS).
///
/// Every step is a cached or joined question, so a warm cache locates without any callback delay
/// (the completion runs inside ``locate(host:port:secure:transport:supported:completion:)``).
public struct SIPServerLocator {
    public let resolver: DNSResolver
    public var random: (UInt32) -> UInt32

    public init(resolver: DNSResolver, random: @escaping (UInt32) -> UInt32 = SRVOrdering.systemRandom) {
        self.resolver = resolver
        self.random = random
    }

    /// Locates `host` (a name or an IP literal, brackets allowed) with an optional explicit port, UDP
    /// only (NAPTR `SIP+D2U`, SRV `_sip._udp`).
    public func locate(host: String, port: UInt16?, secure: Bool = false,
                       completion: @escaping (SIPLocation) -> Void) {
        locate(host: host, port: port, secure: secure, transport: nil, supported: [.udp]) { location, _ in
            completion(location)
        }
    }

    /// Locates `host` and chooses the transport (RFC 3263 §4.1): `transport` is the one the URI names
    /// (nil: none), `supported` those the caller has sockets for. The completion gets the targets and
    /// the transport to reach them with.
    public func locate(host: String, port: UInt16?, secure: Bool, transport: SIPLocatorTransport?,
                       supported: Set<SIPLocatorTransport>,
                       completion: @escaping (SIPLocation, SIPLocatorTransport) -> Void) {
        // sips: always TLS over TCP (transport=tcp on a sips: URI still means TLS).
        let explicit: SIPLocatorTransport? = secure ? .tls : transport
        let fixed = explicit ?? (secure ? .tls : .udp)
        if let literal = SocketAddress(ip: host, port: port ?? (fixed == .tls ? 5061 : 5060)) {
            completion(.targets([literal]), fixed)
            return
        }
        if let port {
            addresses(of: host, port: port) { completion($0, fixed) }
            return
        }
        if let explicit, !(secure && transport == nil && resolver.settings.tryNAPTR) {
            services(owner: explicit.srvPrefix + host, host: host, defaultPort: explicit == .tls ? 5061 : 5060) {
                completion($0, explicit)
            }
            return
        }
        let candidates: [SIPLocatorTransport] = secure ? [.tls] : SIPLocatorTransport.allCases.filter(supported.contains)
        let fallbackOrder = candidates.isEmpty ? [fixed] : candidates
        guard resolver.settings.tryNAPTR else {
            firstService(of: fallbackOrder, host: host, completion: completion)
            return
        }
        resolver.resolve(DNSQuestion(host, .naptr)) { [self] answer in
            if case .failure(let failure) = answer { completion(.failure(failure), fixed); return }
            if let found = Self.srvOwner(from: answer.records, supported: Set(fallbackOrder)) {
                let chosen = found.transport
                services(owner: found.owner, host: host, defaultPort: chosen == .tls ? 5061 : 5060) {
                    completion($0, chosen)
                }
            } else {
                firstService(of: fallbackOrder, host: host, completion: completion)
            }
        }
    }

    /// The SRV owner name of the best NAPTR record for UDP (flag "s", service `SIP+D2U`).
    static func srvOwner(from records: [DNSRecord]) -> String? {
        srvOwner(from: records, supported: [.udp])?.owner
    }

    /// The best NAPTR record (flag "s") whose service is a supported transport: its replacement (the
    /// SRV owner) and that transport.
    static func srvOwner(from records: [DNSRecord], supported: Set<SIPLocatorTransport>)
        -> (owner: String, transport: SIPLocatorTransport)? {
        let usable: [(NAPTRRecord, SIPLocatorTransport)] = records.compactMap {
            guard case .naptr(let n) = $0, n.flags == "s", !n.replacement.isEmpty,
                  let transport = SIPLocatorTransport(naptrService: n.service), supported.contains(transport) else {
                return nil
            }
            return (n, transport)
        }
        guard let best = usable.min(by: { ($0.0.order, $0.0.preference) < ($1.0.order, $1.0.preference) }) else {
            return nil
        }
        return (best.0.replacement, best.1)
    }

    /// No usable NAPTR (§4.1): SRV of each transport in `order`; the first with records wins. Without
    /// any, A/AAAA of the host with the first transport (UDP for `sip:`, TLS for `sips:`) and its
    /// default port.
    private func firstService(of order: [SIPLocatorTransport], host: String,
                              completion: @escaping (SIPLocation, SIPLocatorTransport) -> Void) {
        firstService(of: order[...], preferred: order.first ?? .udp, host: host, completion: completion)
    }

    private func firstService(of order: ArraySlice<SIPLocatorTransport>, preferred: SIPLocatorTransport, host: String,
                              completion: @escaping (SIPLocation, SIPLocatorTransport) -> Void) {
        guard let transport = order.first else {
            addresses(of: host, port: preferred == .tls ? 5061 : 5060) { completion($0, preferred) }
            return
        }
        resolver.resolve(DNSQuestion(transport.srvPrefix + host, .srv)) { [self] answer in
            if case .failure(let failure) = answer { completion(.failure(failure), transport); return }
            let found = answer.records.contains { if case .srv(let s) = $0 { return s.target != "" }; return false }
            if found {
                services(owner: transport.srvPrefix + host, host: host, defaultPort: transport == .tls ? 5061 : 5060) {
                    completion($0, transport)
                }
            } else {
                firstService(of: order.dropFirst(), preferred: preferred, host: host, completion: completion)
            }
        }
    }

    private func services(owner: String, host: String, defaultPort: UInt16, completion: @escaping (SIPLocation) -> Void) {
        resolver.resolve(DNSQuestion(owner, .srv)) { [self] answer in
            if case .failure(let failure) = answer { completion(.failure(failure)); return }
            let records: [SRVRecord] = answer.records.compactMap { if case .srv(let s) = $0 { return s }; return nil }
                .filter { $0.target != "" }  // "." means: no service here
            if records.isEmpty {
                addresses(of: host, port: defaultPort, completion: completion)
                return
            }
            let ordered = SRVOrdering.order(records, random: random)
            var results = [SIPLocation?](repeating: nil, count: ordered.count)
            var remaining = ordered.count
            for (index, record) in ordered.enumerated() {
                addresses(of: record.target, port: record.port) { location in
                    results[index] = location
                    remaining -= 1
                    if remaining == 0 { completion(Self.merge(results.compactMap { $0 })) }
                }
            }
        }
    }

    /// A (and with `dns_try_ipv6` AAAA) addresses of `host`, A first.
    private func addresses(of host: String, port: UInt16, completion: @escaping (SIPLocation) -> Void) {
        var types: [DNSRecordType] = [.a]
        if resolver.settings.tryIPv6 { types.append(.aaaa) }
        var results = [SIPLocation?](repeating: nil, count: types.count)
        var remaining = types.count
        for (index, type) in types.enumerated() {
            resolver.resolve(DNSQuestion(host, type)) { answer in
                switch answer {
                case .records(let records, _):
                    results[index] = .targets(records.compactMap {
                        if case .address(let a) = $0 { return a.withPort(port) }
                        return nil
                    })
                case .negative: results[index] = .notFound
                case .failure(let failure): results[index] = .failure(failure)
                }
                remaining -= 1
                if remaining == 0 { completion(Self.merge(results.compactMap { $0 })) }
            }
        }
    }

    /// Concatenates targets in order; without any target, a failure wins over not-found.
    static func merge(_ parts: [SIPLocation]) -> SIPLocation {
        var targets: [SocketAddress] = []
        var failure: DNSFailure?
        for part in parts {
            switch part {
            case .targets(let t): targets.append(contentsOf: t)
            case .failure(let f): failure = failure ?? f
            case .notFound: break
            }
        }
        if !targets.isEmpty { return .targets(targets) }
        if let failure { return .failure(failure) }
        return .notFound
    }
}
