import Reactor

/// One answer record, decoded from the wire.
public enum DNSRecord: Sendable, Hashable {
    /// An A or AAAA address (port 0).
    case address(SocketAddress)
    /// An SRV record (RFC 2782).
    case srv(SRVRecord)
    /// A NAPTR record (RFC 3403).
    case naptr(NAPTRRecord)
}

/// An SRV record: a target host and port with a priority (lower first) and a weight (RFC 2782).
public struct SRVRecord: Sendable, Hashable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    /// Lower-case, without the trailing dot.
    public var target: String

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

/// A NAPTR record (RFC 3403) as RFC 3263 uses it: order, preference, flags, service and replacement.
public struct NAPTRRecord: Sendable, Hashable {
    public var order: UInt16
    public var preference: UInt16
    /// Lower-cased (`"s"`, `"a"`, `""`).
    public var flags: String
    /// Upper-cased (`"SIP+D2U"`).
    public var service: String
    public var regexp: String
    /// Lower-case, without the trailing dot.
    public var replacement: String

    public init(order: UInt16, preference: UInt16, flags: String, service: String, regexp: String, replacement: String) {
        self.order = order
        self.preference = preference
        self.flags = flags
        self.service = service
        self.regexp = regexp
        self.replacement = replacement
    }
}
