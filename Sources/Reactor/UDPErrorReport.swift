/// One entry of a UDP socket's error queue (`IP_RECVERR`/`IPV6_RECVERR` + `MSG_ERRQUEUE`): typically an
/// ICMP "port unreachable" for a datagram we sent, telling the proxy which destination failed.
public struct UDPErrorReport: Sendable, Hashable, CustomStringConvertible {
    /// Where the error came from (`SO_EE_ORIGIN_*`).
    public enum Origin: Sendable, Hashable {
        case local
        case icmp
        case icmp6
        case other(UInt8)
    }

    /// The errno the kernel associates with the error (e.g. `ECONNREFUSED` for port unreachable).
    public let errno: Int32
    /// Source of the report.
    public let origin: Origin
    /// ICMP type / code (0 for local errors).
    public let icmpType: UInt8
    public let icmpCode: UInt8
    /// The destination of the datagram that failed (from `msg_name`).
    public let destination: SocketAddress?
    /// The node that reported the error (the ICMP sender, `SO_EE_OFFENDER`), if known.
    public let offender: SocketAddress?

    /// The error as an ``IOError`` (function `"IP_RECVERR"`).
    public var error: IOError { IOError(errno: errno, function: "IP_RECVERR") }

    public var description: String {
        "UDPErrorReport(\(error.message), destination: \(destination.map(String.init(describing:)) ?? "?"), "
            + "offender: \(offender.map(String.init(describing:)) ?? "?"), origin: \(origin), type: \(icmpType), code: \(icmpCode))"
    }
}
