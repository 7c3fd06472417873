/// Checks a proxy needs before forwarding (RFC 3261 §16.3 request validation, §8.1.1 mandatory headers).
extension SIPMessage {
    /// Validates mandatory headers and their syntax: Via (top value), From, To, Call-ID, CSeq
    /// (CSeq method must match a request's method), Max-Forwards if present; single-valued
    /// headers must not repeat. Throws with the reason naming the offending header; for requests
    /// with a usable top Via, or an unusable one and a readable Call-ID, `shouldReply400` is true.
    public func validateForProxy() throws(SIPParseError) {
        try validateForProxy(topViaChecked: false)
    }

    /// ``validateForProxy()`` for a caller that has just parsed this message's top Via without error
    /// (`topViaChecked`): the Via is not parsed again; every other check is the same, in the same order.
    public func validateForProxy(topViaChecked: Bool) throws(SIPParseError) {
        do {
            try checkMandatory(topViaChecked: topViaChecked)
        } catch var e {
            if canBeAnswered { e.shouldReply400 = true }
            throw e
        }
    }

    private func checkMandatory(topViaChecked: Bool) throws(SIPParseError) {
        if !topViaChecked { _ = try topVia() }
        try checkSingleValue(.from)
        try checkSingleValue(.to)
        try checkSingleValue(.callID)
        try checkSingleValue(.cseq)
        // Checked as `from()` / `to()` parse them, without building the NameAddrs (RFC 2543 requests
        // without a From tag are tolerated).
        try checkNameAddr(.from, error: .badFrom)
        try checkNameAddr(.to, error: .badTo)
        try checkCallID()
        let cs = try cseq()
        if let m = method, cs.method != m { throw SIPParseError(.cseqMethodMismatch) }
        if headerLineCount(.maxForwards) > 1 { throw SIPParseError(.duplicateHeader(.maxForwards)) }
        _ = try maxForwards()
    }

    /// `name` is present, and every further line of it repeats the first value (else a duplicate).
    /// Walks the fields in place: this runs for every request.
    private func checkSingleValue(_ name: HeaderName) throws(SIPParseError) {
        let code = name.code
        var first = -1
        for j in fields.indices where fieldMatches(fields[j], name, code: code) {
            if first < 0 {
                first = j
            } else if !valueBytes(fields[j]).elementsEqual(valueBytes(fields[first])) {
                throw SIPParseError(.duplicateHeader(name))
            }
        }
        if first < 0 { throw SIPParseError(.missingHeader(name)) }
    }

    /// The first `name` line parses as a name-addr (as `from()` / `to()` do); throws as they would.
    private func checkNameAddr(_ name: HeaderName, error reason: SIPParseError.Reason) throws(SIPParseError) {
        guard let i = firstFieldIndex(name) else { throw SIPParseError(.missingHeader(name)) }
        do { try NameAddr.validate(valueBytes(fields[i])) } catch { throw SIPParseError(reason) }
    }

    /// Call-ID = word [ "@" word ].
    private func checkCallID() throws(SIPParseError) {
        guard let i = firstFieldIndex(.callID) else { throw SIPParseError(.missingHeader(.callID)) }
        let v = valueBytes(fields[i])
        guard !v.isEmpty else { throw SIPParseError(.badCallID) }
        var ats = 0
        for b in v {
            if b == ASCII.at { ats += 1; continue }
            guard isWordChar(b) else { throw SIPParseError(.badCallID) }
        }
        guard ats <= 1, v.first != ASCII.at, v.last != ASCII.at else { throw SIPParseError(.badCallID) }
    }
}
