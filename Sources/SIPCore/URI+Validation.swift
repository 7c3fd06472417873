/// Checking a URI without building it: the From/To check of every request (`validateForProxy`) and
/// `has_totag()` only need to know that the URI parses, and the parsed `SIPURI` costs its text, its
/// unescaped user part and its parameter array.
extension URI {
    /// True when `URI(parsing: b)` would succeed: the same grammar, without allocating for a `sip:`,
    /// `sips:` or other URI (a `tel:` one is parsed, as rare as it is on this path).
    static func isValid(_ b: ArraySlice<UInt8>) -> Bool {
        var i = b.startIndex
        guard i < b.endIndex, isAlpha(b[i]) else { return false }
        while i < b.endIndex, isAlnum(b[i]) || b[i] == 43 || b[i] == 45 || b[i] == 46 { i += 1 }
        guard i < b.endIndex, b[i] == ASCII.colon, i + 1 < b.endIndex else { return false }
        for c in b where c <= 32 || c == 127 || c == ASCII.lt || c == ASCII.gt || c == ASCII.quote {
            return false
        }
        let scheme = b.startIndex..<i
        if b.equalsLowercase(scheme, "sip") || b.equalsLowercase(scheme, "sips") {
            return SIPURI.isValid(b)
        } else if b.equalsLowercase(scheme, "tel") {
            return (try? TelURI(parsing: makeString(b))) != nil
        }
        return true
    }
}

extension SIPURI {
    /// Whether `v` starts with `sip:` or `sips:` (any case) followed by more, and where the rest starts;
    /// nil for another scheme. The parser, its validator and ``SIPURIAddress`` read the scheme here.
    static func scheme(of v: ArraySlice<UInt8>) -> (isSecure: Bool, rest: Int)? {
        let i = v.startIndex
        if v.count > 4, v.equalsLowercase(i..<(i + 4), "sip:") { return (false, i + 4) }
        if v.count > 5, v.equalsLowercase(i..<(i + 5), "sips:") { return (true, i + 5) }
        return nil
    }

    /// True when `SIPURI(parsing: v)` would succeed (same grammar, step by step), without allocating.
    static func isValid(_ v: ArraySlice<UInt8>) -> Bool {
        guard var i = scheme(of: v)?.rest else { return false }
        if let at = v[i...].firstIndex(of: ASCII.at) {
            let ui = v[i..<at]
            let colon = ui.firstIndex(of: ASCII.colon)
            let userPart = ui[ui.startIndex..<(colon ?? ui.endIndex)]
            guard !userPart.isEmpty, validEscaped(userPart, URIEscaping.isUserChar) else { return false }
            if let c = colon, !validEscaped(ui[(c + 1)...], URIEscaping.isPasswordChar) { return false }
            i = at + 1
        }
        guard let afterHost = scanHostEnd(v, from: i) else { return false }
        i = afterHost
        if i < v.endIndex, v[i] == ASCII.colon {
            let ps = i + 1
            i = ps
            while i < v.endIndex, isDigit(v[i]) { i += 1 }
            guard let p = v.parseDecimal(ps..<i), p <= 65535 else { return false }
        }
        while i < v.endIndex, v[i] == ASCII.semicolon {
            i += 1
            let ns = i
            while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.question { i += 1 }
            guard i > ns else { return false }
            if i < v.endIndex, v[i] == ASCII.equals {
                i += 1
                let vs = i
                while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.question { i += 1 }
                guard i > vs else { return false }
            }
        }
        if i < v.endIndex, v[i] == ASCII.question {
            i += 1
            while true {
                let ns = i
                while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.ampersand && v[i] != ASCII.question { i += 1 }
                guard i > ns, i < v.endIndex, v[i] == ASCII.equals else { return false }
                i += 1
                while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.ampersand { i += 1 }
                if i < v.endIndex, v[i] == ASCII.ampersand { i += 1; continue }
                break
            }
        }
        return i == v.endIndex
    }
}
