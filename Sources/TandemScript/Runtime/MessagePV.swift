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
    var needsName: Bool { self == .header || self == .branch }

    static let byName: [String: MessagePV] = {
        var d: [String: MessagePV] = [:]
        for c in MessagePV.allCases { d[c.rawValue] = c }
        d["proto"] = .proto
        return d
    }()
}
