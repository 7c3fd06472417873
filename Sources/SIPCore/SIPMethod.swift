/// A SIP request method (RFC 3261 §7.1 and extensions). Methods are case-sensitive.
public enum SIPMethod: Sendable, Hashable, CustomStringConvertible {
    case invite, ack, bye, cancel, register, options, prack, subscribe, notify, publish, info, refer, message, update
    /// Any other (syntactically valid token) method.
    case other(String)

    /// Parses a method name; `nil` if it is empty or not a token.
    public init?(_ name: String) {
        let b = Array(name.utf8)
        guard let m = SIPMethod(bytes: b, 0..<b.count) else { return nil }
        self = m
    }

    init?<C: Collection>(bytes: C, _ r: Range<Int>) where C.Element == UInt8, C.Index == Int {
        guard !r.isEmpty else { return nil }
        for i in r where !isTokenChar(bytes[i]) { return nil }
        for (lit, m) in SIPMethod.known where lit.count == r.count {
            var same = true
            var j = 0
            for i in r {
                if bytes[i] != lit[j] { same = false; break }
                j += 1
            }
            if same { self = m; return }
        }
        self = .other(makeString(bytes[r]))
    }

    private static let known: [([UInt8], SIPMethod)] = [
        (Array("INVITE".utf8), .invite), (Array("ACK".utf8), .ack), (Array("BYE".utf8), .bye),
        (Array("CANCEL".utf8), .cancel), (Array("REGISTER".utf8), .register), (Array("OPTIONS".utf8), .options),
        (Array("PRACK".utf8), .prack), (Array("SUBSCRIBE".utf8), .subscribe), (Array("NOTIFY".utf8), .notify),
        (Array("PUBLISH".utf8), .publish), (Array("INFO".utf8), .info), (Array("REFER".utf8), .refer),
        (Array("MESSAGE".utf8), .message), (Array("UPDATE".utf8), .update),
    ]

    /// The method name as sent on the wire.
    public var name: String {
        switch self {
        case .invite: "INVITE"
        case .ack: "ACK"
        case .bye: "BYE"
        case .cancel: "CANCEL"
        case .register: "REGISTER"
        case .options: "OPTIONS"
        case .prack: "PRACK"
        case .subscribe: "SUBSCRIBE"
        case .notify: "NOTIFY"
        case .publish: "PUBLISH"
        case .info: "INFO"
        case .refer: "REFER"
        case .message: "MESSAGE"
        case .update: "UPDATE"
        case .other(let s): s
        }
    }

    public var description: String { name }
}
