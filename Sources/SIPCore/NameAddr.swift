/// A `name-addr` or `addr-spec` with header parameters, as used by From, To, Contact, Route,
/// Record-Route (RFC 3261 §20.10, §25.1).
public struct NameAddr: Sendable, Hashable, CustomStringConvertible {
    /// Display name: unquoted (escapes removed) if it was a quoted string, tokens as written otherwise.
    public var displayName: String?
    /// The URI text as written (inside `<>` if present).
    public var uriText: String
    /// Header parameters after the URI (`tag`, `expires`, `q`, ...), values as written.
    public var parameters: [SIPParameter]

    public init(displayName: String? = nil, uri: String, parameters: [SIPParameter] = []) {
        self.displayName = displayName
        uriText = uri
        self.parameters = parameters
    }

    /// Parses a single name-addr / addr-spec value.
    public init(parsing text: String) throws(SIPParseError) {
        try self.init(parsing: Array(text.utf8)[...])
    }

    init(parsing v: ArraySlice<UInt8>) throws(SIPParseError) {
        self = try NameAddr.parsed(v).nameAddr
    }

    /// Parses one name-addr / addr-spec value (as `init(parsing:)`), keeping the URI it parsed: `uri`
    /// would parse `uriText` again.
    public static func parsed(_ v: ArraySlice<UInt8>) throws(SIPParseError) -> (nameAddr: NameAddr, uri: URI) {
        let parts = try NameAddr.scan(v)
        let displayName: String?
        switch parts.displayName {
        case .none: displayName = nil
        case .quoted(let r): displayName = unquote(v[r])
        case .tokens(let r): displayName = makeString(v[r])
        }
        let text = makeString(v[parts.uri])
        let uri = try URI(parsing: v[parts.uri], text: text)
        guard let params = parseHeaderParams(v, from: parts.paramsStart) else { throw SIPParseError(.badURI) }
        return (NameAddr(displayName: displayName, uri: text, parameters: params), uri)
    }

    /// Checks that `v` parses as `init(parsing:)` would, with the same error, without keeping the
    /// display name, URI text or parameters (the mandatory From/To check of every request).
    static func validate(_ v: ArraySlice<UInt8>) throws(SIPParseError) {
        let parts = try NameAddr.scan(v)
        guard URI.isValid(v[parts.uri]) else { throw SIPParseError(.badURI) }
        guard headerParamsAreValid(v, from: parts.paramsStart) else { throw SIPParseError(.badURI) }
    }

    /// `(try? NameAddr(parsing: v))?.tag != nil` without building the name-addr: `v` parses (as
    /// ``validate(_:)`` accepts it) and its first `tag` parameter has a value. `has_totag()` asks this
    /// of every request.
    public static func hasTag(_ v: ArraySlice<UInt8>) -> Bool {
        guard let parts = try? NameAddr.scan(v), URI.isValid(v[parts.uri]) else { return false }
        var seen = false
        var tagged = false
        let valid = scanHeaderParams(v, from: parts.paramsStart) { name, value in
            guard !seen, v.equalsLowercase(name, "tag") else { return }
            seen = true
            tagged = value != nil
        }
        return valid && tagged
    }

    /// Where the display name of a scanned value is.
    enum DisplayNameRange {
        case none
        /// A quoted string, quotes included.
        case quoted(Range<Int>)
        /// Tokens before `<`, trimmed (not empty).
        case tokens(Range<Int>)
    }

    /// Splits a name-addr / addr-spec into display name, URI (inside `<>` if present) and the start
    /// of the header parameters. Throws `.badURI` where the shape is wrong; the URI itself is not checked.
    static func scan(_ v: ArraySlice<UInt8>) throws(SIPParseError)
        -> (displayName: DisplayNameRange, uri: Range<Int>, paramsStart: Int) {
        var i = v.startIndex
        skipSpace(v, &i)
        guard i < v.endIndex else { throw SIPParseError(.badURI) }
        var displayName = DisplayNameRange.none
        var angled = false
        if v[i] == ASCII.quote {
            guard let e = quotedStringEnd(v, from: i) else { throw SIPParseError(.badURI) }
            displayName = .quoted(i..<e)
            i = e
            skipSpace(v, &i)
            guard i < v.endIndex, v[i] == ASCII.lt else { throw SIPParseError(.badURI) }
            angled = true
        } else {
            // *(token LWS) "<"  or an addr-spec.
            var j = i
            while j < v.endIndex, isTokenChar(v[j]) || isLWSByte(v[j]) { j += 1 }
            if j < v.endIndex, v[j] == ASCII.lt {
                let dn = v.trimmedRange(i..<j)
                if !dn.isEmpty { displayName = .tokens(dn) }
                i = j
                angled = true
            }
        }
        let uriRange: Range<Int>
        if angled {
            let us = i + 1
            guard let gt = v[us...].firstIndex(of: ASCII.gt) else { throw SIPParseError(.badURI) }
            uriRange = us..<gt
            guard !uriRange.isEmpty, !isLWSByte(v[us]), !isLWSByte(v[gt - 1]) else { throw SIPParseError(.badURI) }
            i = gt + 1
        } else {
            let us = i
            while i < v.endIndex, v[i] != ASCII.semicolon, !isLWSByte(v[i]) {
                // RFC 3261 §20: a URI with ',', '?' or ';' must be enclosed in <>.
                if v[i] == ASCII.question || v[i] == ASCII.comma { throw SIPParseError(.badURI) }
                i += 1
            }
            uriRange = us..<i
        }
        return (displayName, uriRange, i)
    }

    /// The parsed URI (validated at parse time).
    public var uri: URI { (try? URI(parsing: uriText)) ?? .other(scheme: "", text: uriText) }

    /// The `tag` parameter.
    public var tag: String? {
        get { parameters.value(of: "tag") ?? nil }
        set { if let newValue { parameters.set("tag", newValue) } else { parameters.remove(named: "tag") } }
    }

    /// Serialized as `"Display" <uri>;params` (always in name-addr form).
    public var description: String {
        var s = ""
        if let d = displayName {
            s += "\""
            for c in d.unicodeScalars {
                if c == "\"" || c == "\\" { s += "\\" }
                s.unicodeScalars.append(c)
            }
            s += "\" "
        }
        s += "<\(uriText)>"
        s += parameters.serialized
        return s
    }
}
