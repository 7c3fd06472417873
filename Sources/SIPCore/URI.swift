/// Any URI found in a Request-URI or name-addr: SIP/SIPS, tel, or another absolute URI kept as text.
public enum URI: Sendable, Hashable, CustomStringConvertible {
    case sip(SIPURI)
    case tel(TelURI)
    /// Another scheme (`http:`, `urn:`, `isbn:` ...), text as written.
    case other(scheme: String, text: String)

    /// Parses URI text, dispatching on the scheme.
    public init(parsing text: String) throws(SIPParseError) {
        try self.init(parsing: Array(text.utf8)[...], text: text)
    }

    /// Parses the URI in `b`; `text` is the same URI as a String when the caller has one. The scheme is
    /// matched on the bytes and a SIP URI parsed from them, so no lowercased copy or second array is made.
    init(parsing b: ArraySlice<UInt8>, text: String? = nil) throws(SIPParseError) {
        var i = b.startIndex
        guard i < b.endIndex, isAlpha(b[i]) else { throw SIPParseError(.badURI) }
        while i < b.endIndex, isAlnum(b[i]) || b[i] == 43 || b[i] == 45 || b[i] == 46 { i += 1 }
        guard i < b.endIndex, b[i] == ASCII.colon, i + 1 < b.endIndex else { throw SIPParseError(.badURI) }
        for c in b where c <= 32 || c == 127 || c == ASCII.lt || c == ASCII.gt || c == ASCII.quote {
            throw SIPParseError(.badURI)
        }
        let scheme = b.startIndex..<i
        if b.equalsLowercase(scheme, "sip") || b.equalsLowercase(scheme, "sips") {
            self = .sip(try SIPURI(parsing: b, text: text))
        } else if b.equalsLowercase(scheme, "tel") {
            self = .tel(try TelURI(parsing: text ?? makeString(b)))
        } else {
            self = .other(scheme: makeString(b[scheme]).lowercased(), text: text ?? makeString(b))
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
