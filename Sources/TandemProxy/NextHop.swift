import Reactor
import SIPCore

/// Turns a SIP URI into where to send: an IP literal needs no lookup; a host name (the URI's host, or
/// its `maddr`) is located with RFC 3263 by the worker's non-blocking resolver
/// (``ProxyCore/locateNextHop(_:context:)``), whether the script or the packet named it. No name is
/// ever looked up with `getaddrinfo` on a worker.
enum NextHop {
    /// The outcome of reading a URI.
    enum Resolution: Equatable {
        case address(SocketAddress)
        /// A host name to locate (RFC 3263 §4): an explicit port skips NAPTR and SRV.
        case name(host: String, port: UInt16?, secure: Bool)
        /// Not a usable SIP URI.
        case unusable
    }

    /// The next hop of a SIP URI: `maddr` if present, else host; port or 5060 (5061 for sips).
    static func address(for uri: SIPURI) -> Resolution {
        address(for: SIPURIAddress(uri))
    }

    /// ``address(for:)-(SIPURI)`` of a URI read without building it (``SIPURIAddress``).
    static func address(for uri: SIPURIAddress) -> Resolution {
        let host: Substring = uri.maddr.map { Substring($0) } ?? uri.bareHost
        let port = uri.port ?? (uri.isSecure ? 5061 : 5060)
        if let literal = literal(host, port: port) { return .address(literal) }
        guard !host.isEmpty else { return .unusable }
        return .name(host: String(host), port: uri.port, secure: uri.isSecure)
    }

    /// The next hop of a URI given as text (`sip:host:port;params`, or a bare `host:port`).
    static func address(forURIText text: String) -> Resolution {
        if let uri = try? URI(parsing: text), let sip = uri.sipURI { return address(for: sip) }
        if let uri = try? SIPURI(parsing: "sip:" + text) { return address(for: uri) }
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
