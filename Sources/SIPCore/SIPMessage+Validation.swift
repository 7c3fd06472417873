/// Checks a proxy needs before forwarding (RFC 3261 §16.3 request validation, §8.1.1 mandatory headers).
extension SIPMessage {
    /// Validates mandatory headers and their syntax: Via (top value), From, To, Call-ID, CSeq
    /// (CSeq method must match a request's method), Max-Forwards if present; single-valued
    /// headers must not repeat. Throws with the reason naming the offending header; for requests
    /// with a usable top Via, or an unusable one and a readable Call-ID, `shouldReply400` is true.
    public func validateForProxy() throws(SIPParseError) {
        do {
            try checkMandatory()
        } catch var e {
            if canBeAnswered { e.shouldReply400 = true }
            throw e
        }
    }

    private func checkMandatory() throws(SIPParseError) {
        _ = try topVia()
        for name in [HeaderName.from, .to, .callID, .cseq] {
            let lines = fieldIndices(name)
            guard let first = lines.first else { throw SIPParseError(.missingHeader(name)) }
            if lines.count > 1 {
                let v0 = valueBytes(fields[first])
                for j in lines.dropFirst() where !valueBytes(fields[j]).elementsEqual(v0) {
                    throw SIPParseError(.duplicateHeader(name))
                }
            }
        }
        let from = try from()
        _ = try to()
        if isRequest, from.tag == nil {
            // RFC 2543 requests have no From tag; tolerated.
        }
        try checkCallID()
        let cs = try cseq()
        if let m = method, cs.method != m { throw SIPParseError(.cseqMethodMismatch) }
        if headerLineCount(.maxForwards) > 1 { throw SIPParseError(.duplicateHeader(.maxForwards)) }
        _ = try maxForwards()
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
