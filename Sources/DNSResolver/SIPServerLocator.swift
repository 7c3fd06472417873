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

/// RFC 3263 §4 client procedures over a worker's ``DNSResolver``, UDP only for now:
/// - a numeric host needs no DNS (the caller passes `maddr` as the host when present);
/// - a URI with a port skips NAPTR and SRV: A (and AAAA with `dns_try_ipv6`) of the host;
/// - otherwise NAPTR (with `dns_try_naptr`): the records with flag "S" and service `SIP+D2U`, best
///   order/preference first, name the SRV owner; without a usable NAPTR, `_sip._udp.<host>`;
/// - SRV records are ordered by priority and RFC 2782 weights (``SRVOrdering``), each target's
///   addresses get the SRV port; no SRV record: A/AAAA of the host with the default port.
///
/// Every step is a cached or joined question, so a warm cache locates without any callback delay
/// (the completion runs inside ``locate(host:port:secure:completion:)``).
public struct SIPServerLocator {
    public let resolver: DNSResolver
    public var random: (UInt32) -> UInt32

    public init(resolver: DNSResolver, random: @escaping (UInt32) -> UInt32 = SRVOrdering.systemRandom) {
        self.resolver = resolver
        self.random = random
    }

    /// Locates `host` (a name or an IP literal, brackets allowed) with an optional explicit port.
    public func locate(host: String, port: UInt16?, secure: Bool = false,
                       completion: @escaping (SIPLocation) -> Void) {
        let defaultPort: UInt16 = secure ? 5061 : 5060
        if let literal = SocketAddress(ip: host, port: port ?? defaultPort) {
            completion(.targets([literal]))
            return
        }
        if let port {
            addresses(of: host, port: port, completion: completion)
            return
        }
        guard resolver.settings.tryNAPTR else {
            services(owner: "_sip._udp." + host, host: host, defaultPort: defaultPort, completion: completion)
            return
        }
        resolver.resolve(DNSQuestion(host, .naptr)) { answer in
            if case .failure(let failure) = answer { completion(.failure(failure)); return }
            let owner = Self.srvOwner(from: answer.records) ?? "_sip._udp." + host
            services(owner: owner, host: host, defaultPort: defaultPort, completion: completion)
        }
    }

    /// The SRV owner name of the best NAPTR record for UDP (flag "s", service `SIP+D2U`).
    static func srvOwner(from records: [DNSRecord]) -> String? {
        let usable: [NAPTRRecord] = records.compactMap {
            if case .naptr(let n) = $0, n.flags == "s", n.service == "SIP+D2U", !n.replacement.isEmpty { return n }
            return nil
        }
        return usable.min { ($0.order, $0.preference) < ($1.order, $1.preference) }?.replacement
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
