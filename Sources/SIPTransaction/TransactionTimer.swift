/// The RFC 3261 §17 transaction timers (plus Timer C from §16.6/§16.8 and
/// Timers L and M from RFC 6026).
///
/// A machine asks for a timer with a `startTimer` action and learns that it
/// fired through a `.timer(_:)` event. Starting a timer that is already running
/// replaces it (reset).
public enum TransactionTimer: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// INVITE client: request retransmission interval (unreliable transports only).
    case a
    /// INVITE client: transaction timeout in Calling (64*T1).
    case b
    /// Proxy INVITE client: Timer C, final response wait (> 3 min).
    case c
    /// INVITE client: wait time for response retransmissions in Completed.
    case d
    /// Non-INVITE client: request retransmission interval (unreliable only).
    case e
    /// Non-INVITE client: transaction timeout (64*T1).
    case f
    /// INVITE server: final non-2xx response retransmission interval (unreliable only).
    case g
    /// INVITE server: wait time for ACK receipt (64*T1).
    case h
    /// INVITE server: wait time for ACK retransmissions in Confirmed.
    case i
    /// Non-INVITE server: wait time for request retransmissions in Completed.
    case j
    /// Non-INVITE client: wait time for response retransmissions in Completed.
    case k
    /// INVITE server (RFC 6026): wait time in Accepted for 2xx retransmissions / ACKs.
    case l
    /// INVITE client (RFC 6026): wait time in Accepted for 2xx retransmissions.
    case m

    public var description: String {
        switch self {
        case .a: "Timer A"
        case .b: "Timer B"
        case .c: "Timer C"
        case .d: "Timer D"
        case .e: "Timer E"
        case .f: "Timer F"
        case .g: "Timer G"
        case .h: "Timer H"
        case .i: "Timer I"
        case .j: "Timer J"
        case .k: "Timer K"
        case .l: "Timer L"
        case .m: "Timer M"
        }
    }
}
