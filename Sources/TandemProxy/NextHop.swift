import Glibc
import Reactor
import SIPCore

/// Turns a SIP URI (or a Via) into the UDP address to send to.
///
/// IP literals resolve without a system call. Host names go through `getaddrinfo` (A/AAAA only;
/// RFC 3263 NAPTR/SRV is not done), which can block: they are resolved once and cached.
enum NextHop {
    /// The address for a SIP URI: `maddr` if present, else host; port or 5060.
    static func address(for uri: SIPURI) -> SocketAddress? {
        let host = uri.maddr ?? String(uri.bareHost)
        return resolve(host: host, port: uri.port ?? (uri.isSecure ? 5061 : 5060))
    }

    /// The address for a URI given as text (`sip:host:port;params`, or a bare `host:port`).
    static func address(forURIText text: String) -> SocketAddress? {
        if let uri = try? URI(parsing: text), let sip = uri.sipURI { return address(for: sip) }
        if let uri = try? SIPURI(parsing: "sip:" + text) { return address(for: uri) }
        return nil
    }

    /// Resolves `host` (IPv4/IPv6 literal, with or without brackets, or a name).
    static func resolve(host: String, port: UInt16) -> SocketAddress? {
        var h = Substring(host)
        if h.hasPrefix("["), h.hasSuffix("]") { h = h.dropFirst().dropLast() }
        if let literal = SocketAddress(ip: String(h), port: port) { return literal }
        return HostCache.shared.lookup(String(h)).map { $0.withPort(port) }
    }
}

/// A process-wide cache of host name lookups (positive answers only).
final class HostCache: Sendable {
    static let shared = HostCache()
    private let table = ShardedTable<String, SocketAddress>(shardCount: 8)

    func lookup(_ name: String) -> SocketAddress? {
        if let hit = table.lookup(name) { return hit }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            if let sa = n.pointee.ai_addr,
               let address = SocketAddress(bytes: UnsafeRawBufferPointer(start: sa, count: Int(n.pointee.ai_addrlen)),
                                           length: n.pointee.ai_addrlen) {
                table.set(name, address)
                return address
            }
            node = n.pointee.ai_next
        }
        return nil
    }
}
