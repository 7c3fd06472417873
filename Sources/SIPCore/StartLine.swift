/// The parsed first line of a message: request line (method, Request-URI bounds) or status line.
enum StartLine: Sendable {
    case request(method: SIPMethod, uri: Range<Int>)
    case response(code: Int, reason: Range<Int>)
}

extension StartLine {
    private static let sip20: [UInt8] = Array("sip/2.0".utf8)
    private static let sipSlash: [UInt8] = Array("sip/".utf8)

    /// Parses the start line occupying `p[r]` (no line terminator).
    ///
    /// Errors after the method was recognised (Request-URI, version, extra spaces) are returned as
    /// `deferred` with a best-effort start line, so the caller can still find the Via and answer
    /// with 400 (or 505 for `badVersion`).
    static func parse(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws(SIPParseError)
        -> (line: StartLine, deferred: SIPParseError?) {
        let ls = r.lowerBound, le = r.upperBound
        if le - ls >= 4, p.equalsLowercase(ls..<(ls + 4), sipSlash) {
            return (try parseStatus(p, r), nil)
        }
        // Request-Line = Method SP Request-URI SP SIP-Version
        var s1 = ls
        while s1 < le, p[s1] != ASCII.sp { s1 += 1 }
        guard s1 < le, s1 > ls else { throw SIPParseError(.badStartLine) }
        var s2 = le - 1
        while s2 > s1, p[s2] != ASCII.sp { s2 -= 1 }
        guard s2 > s1 else { throw SIPParseError(.badStartLine) }
        guard let method = SIPMethod(bytes: p, ls..<s1) else { throw SIPParseError(.badMethod) }
        let uri = (s1 + 1)..<s2
        let line = StartLine.request(method: method, uri: uri)
        if isWS(p[le - 1]) { return (line, SIPParseError(.badStartLine)) }
        let version = (s2 + 1)..<le
        if !p.equalsLowercase(version, sip20) {
            if version.count >= 4, p.equalsLowercase(version.lowerBound..<(version.lowerBound + 4), sipSlash) {
                return (line, SIPParseError(.badVersion))
            }
            return (line, SIPParseError(.badStartLine))
        }
        guard !uri.isEmpty, !isWS(p[uri.lowerBound]), !isWS(p[uri.upperBound - 1]) else {
            return (line, SIPParseError(.badStartLine))
        }
        do {
            try checkRequestURI(p, uri)
        } catch {
            return (line, error)
        }
        return (line, nil)
    }

    /// Cheap syntactic check of the Request-URI (full parse is lazy).
    static func checkRequestURI(_ p: UnsafeBufferPointer<UInt8>, _ uri: Range<Int>) throws(SIPParseError) {
        var i = uri.lowerBound
        guard i < uri.upperBound, isAlpha(p[i]) else { throw SIPParseError(.badRequestURI) }
        while i < uri.upperBound, isAlnum(p[i]) || p[i] == 43 || p[i] == 45 || p[i] == 46 { i += 1 }
        guard i < uri.upperBound, p[i] == ASCII.colon, i + 1 < uri.upperBound else { throw SIPParseError(.badRequestURI) }
        let schemeLen = i - uri.lowerBound
        let isSIP = (schemeLen == 3 && p.equalsLowercase(uri.lowerBound..<i, "sip"))
            || (schemeLen == 4 && p.equalsLowercase(uri.lowerBound..<i, "sips"))
        var afterAt = true
        for j in uri where p[j] == ASCII.at { afterAt = false; break }
        for j in uri {
            let b = p[j]
            if b == ASCII.at { afterAt = true }
            if b <= 32 || b == 127 || b == ASCII.lt || b == ASCII.gt || b == ASCII.quote {
                throw SIPParseError(.badRequestURI)
            }
            // RFC 3261 §19.1.1: headers are not allowed in a SIP Request-URI.
            if isSIP && afterAt && b == ASCII.question { throw SIPParseError(.badRequestURI) }
        }
    }

    private static func parseStatus(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws(SIPParseError) -> StartLine {
        let ls = r.lowerBound, le = r.upperBound
        var i = ls
        while i < le, p[i] != ASCII.sp { i += 1 }
        guard p.equalsLowercase(ls..<i, sip20) else { throw SIPParseError(.badVersion) }
        guard i < le else { throw SIPParseError(.badStatusCode) }
        i += 1
        let cs = i
        while i < le, isDigit(p[i]) { i += 1 }
        guard i - cs == 3, i == le || p[i] == ASCII.sp,
              let code = p.parseDecimal(cs..<i), code >= 100, code <= 699
        else { throw SIPParseError(.badStatusCode) }
        let rs = i < le ? i + 1 : le
        for j in rs..<le where p[j] < 32 && p[j] != ASCII.htab { throw SIPParseError(.badReasonPhrase) }
        return .response(code: Int(code), reason: rs..<le)
    }
}
