/// Identifiers of message-related pseudo-variables read (and partly written) through `ScriptMessage`.
public enum MessagePV: String, Sendable, CaseIterable, Hashable {
    case requestURI = "ru", requestUser = "rU", requestDomain = "rd", requestPort = "rp"
    case destinationURI = "du"
    case fromURI = "fu", fromUser = "fU", fromDomain = "fd", fromTag = "ft"
    case toURI = "tu", toUser = "tU", toDomain = "td", toTag = "tt"
    case callID = "ci", cseq = "cs", method = "rm"
    case replyStatus = "rs", replyReason = "rr"
    case sourceIP = "si", sourcePort = "sp", receivedIP = "Ri", receivedPort = "Rp"
    case proto = "pr", userAgent = "ua", body = "mb", message = "ml"
    case header = "hdr", contact = "ct", originalURI = "ou"
    case replyCode = "T_reply_code", branchIndex = "T_branch_idx"
    /// `$af`: "INET" or "INET6", the address family the message arrived over.
    case addressFamily = "af"
    /// `$hdrcnt(name)`: how many headers of that name the message has.
    case headerCount = "hdrcnt"
    /// `$socket_in` (`udp:IP:PORT`) and `$socket_in(ip|port|proto|name|anycast|af|...)`.
    case socketIn = "socket_in"
    /// `$ct.fields(uri|name|expires|q|params)`: a field of the first Contact.
    case contactField = "ct.fields"
    /// `$branch(uri|q|duri|path|flags)[index]`: a field of the request's branch set (read-only).
    case branch = "branch"
    /// `$au`, `$ar`, `$adu`: username, realm and digest URI of the request's credentials
    /// (Proxy-Authorization first, then Authorization).
    case authUser = "au", authRealm = "ar", authURI = "adu"

    /// Whether a script may assign it (as OpenSIPS allows).
    public var isWritable: Bool {
        switch self {
        case .requestURI, .requestUser, .requestDomain, .requestPort, .destinationURI: return true
        default: return false
        }
    }

    /// Whether it takes a `(name)` argument.
    var needsName: Bool { self == .header || self == .headerCount || self == .contactField || self == .branch }

    /// Whether it takes an optional `(field)` argument.
    var allowsName: Bool { needsName || self == .socketIn }

    static let byName: [String: MessagePV] = {
        var d: [String: MessagePV] = [:]
        for c in MessagePV.allCases { d[c.rawValue] = c }
        d["proto"] = .proto
        return d
    }()
}
