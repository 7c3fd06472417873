/// The top Via's branch without building the Via: every reply a proxy receives needs only that (to
/// find its client transaction), and a parsed `Via` costs its parameter array and strings.
extension Via {
    /// The `branch` of the Via value `v` as `Via(parsing: v).branch` reads it (nil when absent or
    /// valueless), after the same checks with the same error: `v` is not a valid Via → `.badVia`.
    static func branch(ofValid v: ArraySlice<UInt8>) throws(SIPParseError) -> String? {
        var i = v.startIndex
        func token() throws(SIPParseError) {
            skipSpace(v, &i)
            let s = i
            while i < v.endIndex, isTokenChar(v[i]) { i += 1 }
            guard i > s else { throw SIPParseError(.badVia) }
        }
        func slash() throws(SIPParseError) {
            skipSpace(v, &i)
            guard i < v.endIndex, v[i] == ASCII.slash else { throw SIPParseError(.badVia) }
            i += 1
        }
        try token()
        try slash()
        try token()
        try slash()
        try token()
        let beforeHost = i
        skipSpace(v, &i)
        guard i > beforeHost, i < v.endIndex else { throw SIPParseError(.badVia) }
        guard let afterHost = scanHostEnd(v, from: i) else { throw SIPParseError(.badVia) }
        i = try scanViaPort(v, from: afterHost).1
        // As `parameters.value(of:)`: only the first parameter of each name counts.
        var branch: Range<Int>?? = nil
        var ttl: Range<Int>?? = nil
        var rport: Range<Int>?? = nil
        let valid = scanHeaderParams(v, from: i) { name, value in
            if branch == nil, v.equalsLowercase(name, "branch") {
                branch = .some(value)
            } else if ttl == nil, v.equalsLowercase(name, "ttl") {
                ttl = .some(value)
            } else if rport == nil, v.equalsLowercase(name, "rport") {
                rport = .some(value)
            }
        }
        guard valid else { throw SIPParseError(.badVia) }
        if case .some(.some(let t)) = ttl, UInt8(makeString(v[t])) == nil { throw SIPParseError(.badVia) }
        if case .some(.some(let r)) = rport, UInt16(makeString(v[r])) == nil { throw SIPParseError(.badVia) }
        guard case .some(.some(let b)) = branch else { return nil }
        return makeString(v[b])
    }
}

extension SIPMessage {
    /// `try topVia().branch`, with the same errors, without building the Via.
    public func topViaBranch() throws(SIPParseError) -> String? {
        guard let i = firstFieldIndex(.via) else { throw SIPParseError(.missingHeader(.via)) }
        let v = valueBytes(fields[i])
        guard let r = firstTopLevel(v) else { throw SIPParseError(.badVia) }
        return try Via.branch(ofValid: v[r])
    }
}
