/// Any URI found in a Request-URI or name-addr: SIP/SIPS, tel, or another absolute URI kept as text.
public enum URI: Sendable, Hashable, CustomStringConvertible {
    case sip(SIPURI)
    case tel(TelURI)
    /// Another scheme (`http:`, `urn:`, `isbn:` ...), text as written.
    case other(scheme: String, text: String)

    /// Parses URI text, dispatching on the scheme.
    public init(parsing text: String) throws(SIPParseError) {
        let b = Array(text.utf8)
        var i = 0
        guard i < b.count, isAlpha(b[i]) else { throw SIPParseError(.badURI) }
        while i < b.count, isAlnum(b[i]) || b[i] == 43 || b[i] == 45 || b[i] == 46 { i += 1 }
        guard i < b.count, b[i] == ASCII.colon, i + 1 < b.count else { throw SIPParseError(.badURI) }
        for c in b where c <= 32 || c == 127 || c == ASCII.lt || c == ASCII.gt || c == ASCII.quote {
            throw SIPParseError(.badURI)
        }
        let scheme = makeString(b[0..<i]).lowercased()
        switch scheme {
        case "sip", "sips": self = .sip(try SIPURI(parsing: text))
        case "tel": self = .tel(try TelURI(parsing: text))
        default: self = .other(scheme: scheme, text: text)
        }
    }

    /// The SIP URI, if this is one.
    public var sipURI: SIPURI? {
        if case .sip(let u) = self { return u }
        return nil
    }

    /// The lowercase scheme.
    public var scheme: String {
        switch self {
        case .sip(let u): u.isSecure ? "sips" : "sip"
        case .tel: "tel"
        case .other(let s, _): s
        }
    }

    public var description: String {
        switch self {
        case .sip(let u): u.description
        case .tel(let t): t.description
        case .other(_, let t): t
        }
    }
}
