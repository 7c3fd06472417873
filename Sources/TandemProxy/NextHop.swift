import Glibc
import Reactor
import SIPCore

/// Turns a SIP URI into the UDP address to send to.
///
/// IP literals need no system call. Host names are looked up only when the routing script itself
/// chose the destination (`$du`, the argument of `t_relay`): those go through `getaddrinfo` (A/AAAA
/// only; RFC 3263 NAPTR/SRV is not done), which can block the worker, so every answer is cached
/// (failures for ``HostCache/negativeSeconds``). A name that arrived in the packet (Request-URI, a
/// Route, a `maddr`) is never looked up on a worker: a hostile peer could make every worker wait on a
/// slow DNS server. Such a request gets ``Resolution/hostNameFromPacket``.
enum NextHop {
    /// Who picked the destination.
    enum Origin {
        /// The routing script (`$du`, `t_relay("…")`): host names are resolved (and cached).
        case script
        /// The request (Request-URI, top Route): only IP literals are used.
        case packet
    }

    /// The outcome of turning a URI into an address.
    enum Resolution: Equatable {
        case address(SocketAddress)
        /// The URI names a host (or maddr) that came with the packet; it was not looked up.
        case hostNameFromPacket(String)
        /// Not a usable SIP URI, or a name the resolver could not answer.
        case unusable
    }

    /// The address for a SIP URI: `maddr` if present, else host; port or 5060 (5061 for sips).
    static func address(for uri: SIPURI, origin: Origin) -> Resolution {
        let host: Substring = uri.maddr.map { Substring($0) } ?? uri.bareHost
        let port = uri.port ?? (uri.isSecure ? 5061 : 5060)
        if let literal = literal(host, port: port) { return .address(literal) }
        switch origin {
        case .packet: return .hostNameFromPacket(String(host))
        case .script: return HostCache.shared.lookup(String(host)).map { .address($0.withPort(port)) } ?? .unusable
        }
    }

    /// The address for a URI given as text (`sip:host:port;params`, or a bare `host:port`).
    static func address(forURIText text: String, origin: Origin) -> Resolution {
        if let uri = try? URI(parsing: text), let sip = uri.sipURI { return address(for: sip, origin: origin) }
        if let uri = try? SIPURI(parsing: "sip:" + text) { return address(for: uri, origin: origin) }
        return .unusable
    }

    /// `host` as an address if it is an IPv4 or IPv6 literal (with or without brackets); never resolves.
    static func literal(_ host: some StringProtocol, port: UInt16) -> SocketAddress? {
        var h = Substring(host)
        if h.hasPrefix("["), h.hasSuffix("]") { h = h.dropFirst().dropLast() }
        guard let first = h.utf8.first else { return nil }
        // A name starts with a letter (RFC 3261 hostname: toplabel starts with ALPHA) unless it is all digits
        // and dots; skip inet_pton for the common name case.
        let isHexOrDigit = (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
            || h.utf8.contains(UInt8(ascii: ":"))
        guard isHexOrDigit else { return nil }
        return SocketAddress(ip: String(h), port: port)
    }
}

/// A process-wide cache of host name lookups for destinations the script chose: positive answers are
/// kept, failures for ``negativeSeconds`` (so a dead name costs one blocking lookup per interval, not
/// one per request).
final class HostCache: Sendable {
    static let shared = HostCache()
    /// How long a failed lookup is remembered.
    static let negativeSeconds: UInt64 = 30

    private struct Entry: Sendable {
        var address: SocketAddress?
        /// Monotonic time after which a failure is looked up again (0 for an answer).
        var retryAfterNanoseconds: UInt64
    }

    private let table = ShardedTable<String, Entry>(shardCount: 8)

    func lookup(_ name: String) -> SocketAddress? {
        if let hit = table.lookup(name) {
            if let address = hit.address { return address }
            if System.monotonicNanoseconds() < hit.retryAfterNanoseconds { return nil }
        }
        let answer = Self.getaddrinfo(name)
        table.set(name, Entry(address: answer, retryAfterNanoseconds: answer == nil
                                ? System.monotonicNanoseconds() + Self.negativeSeconds * 1_000_000_000 : 0))
        return answer
    }

    /// True if `name` was looked up (answered or not) since start.
    func hasEntry(_ name: String) -> Bool { table.lookup(name) != nil }

    private static func getaddrinfo(_ name: String) -> SocketAddress? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard Glibc.getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            if let sa = n.pointee.ai_addr,
               let address = SocketAddress(bytes: UnsafeRawBufferPointer(start: sa, count: Int(n.pointee.ai_addrlen)),
                                           length: n.pointee.ai_addrlen) {
                return address
            }
            node = n.pointee.ai_next
        }
        return nil
    }
}
