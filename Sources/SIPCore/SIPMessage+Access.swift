/// Start-line, header and body accessors. Everything is computed on demand from the bytes.
extension SIPMessage {
    /// True for requests, false for responses.
    public var isRequest: Bool {
        if case .request = start { return true }
        return false
    }

    /// The request method (nil for responses).
    public var method: SIPMethod? {
        if case .request(let m, _) = start { return m }
        return nil
    }

    /// The Request-URI as text (nil for responses).
    public var requestURIText: String? {
        if let u = newRequestURI { return makeString(u) }
        if case .request(_, let r) = start { return makeString(bytes[r]) }
        return nil
    }

    /// True if the Request-URI's scheme is `sip`, `sips` or `tel` (case-insensitive); false for any other
    /// scheme and for responses. Reads the bytes in place.
    public var hasSIPOrTelRequestURI: Bool {
        func check(_ b: some Collection<UInt8>) -> Bool {
            // Up to four scheme bytes, lower-cased, packed into one integer.
            var code: UInt32 = 0
            var length = 0
            var i = b.startIndex
            while i != b.endIndex, b[i] != UInt8(ascii: ":"), length < 4 {
                code = code << 8 | UInt32(b[i] | 0x20)
                length += 1
                i = b.index(after: i)
            }
            guard i != b.endIndex, b[i] == UInt8(ascii: ":") else { return false }
            return code == 0x73_69_70 || code == 0x73_69_70_73 || code == 0x74_65_6C   // sip, sips, tel
        }
        if let u = newRequestURI { return check(u) }
        if case .request(_, let r) = start { return check(bytes[r]) }
        return false
    }

    /// The parsed Request-URI (nil for responses).
    public func requestURI() throws(SIPParseError) -> URI? {
        if let u = newRequestURI { return try URI(parsing: u[...], text: makeString(u)) }
        if case .request(_, let r) = start { return try URI(parsing: bytes[r], text: makeString(bytes[r])) }
        return nil
    }

    /// The status code (nil for requests).
    public var statusCode: Int? {
        if case .response(let c, _) = start { return c }
        return nil
    }

    /// The reason phrase (nil for requests).
    public var reasonPhrase: String? {
        if case .response(_, let r) = start { return makeString(bytes[r]) }
        return nil
    }

    /// The body bytes (after Content-Length truncation, or as set by `setBody`).
    public var body: ArraySlice<UInt8> {
        if let b = newBody { return b[...] }
        return bytes[bodyRange]
    }

    /// The Content-Length of the message as it will be serialized (the body size).
    public var contentLength: Int { newBody?.count ?? bodyRange.count }

    /// The Content-Type header value, if any.
    public var contentType: String? { header(.contentType) }

    /// The Call-ID header value, if any.
    public var callID: String? { header(.callID) }

    // MARK: - Raw header access

    /// Value bytes of a field (unfolded when needed).
    func valueBytes(_ f: HeaderField) -> ArraySlice<UInt8> {
        if f.isOwned { return extra[f.valueStart..<f.valueEnd] }
        if f.folded { return unfold(bytes[f.valueStart..<f.valueEnd])[...] }
        return bytes[f.valueStart..<f.valueEnd]
    }

    /// Name bytes of a field (as spelled in the message).
    @inline(__always)
    func nameBytes(_ f: HeaderField) -> ArraySlice<UInt8> {
        f.isOwned ? extra[f.lineStart..<f.nameEnd] : bytes[f.lineStart..<f.nameEnd]
    }

    /// The whole line of an added or rewritten field (`f.isOwned`): `Name: value`.
    @inline(__always)
    func ownedLine(_ f: HeaderField) -> ArraySlice<UInt8> { extra[f.lineStart..<f.valueEnd] }

    /// Name of a field as a `HeaderName`.
    func fieldName(_ f: HeaderField) -> HeaderName {
        if f.code != 0 { return HeaderName.table[Int(f.code) - 1].name }
        return .other(makeString(nameBytes(f)))
    }

    /// Whether field `f` has name `name` (whose code is `code`).
    @inline(__always)
    func fieldMatches(_ f: HeaderField, _ name: HeaderName, code: UInt8) -> Bool {
        if code != 0 { return f.code == code }
        guard f.code == 0, case .other(let s) = name else { return false }
        let nb = nameBytes(f)
        return nb.count == s.utf8.count && nb.elementsEqual(s.utf8, by: { asciiLower($0) == asciiLower($1) })
    }

    /// Indices into `fields` of all lines named `name`.
    func fieldIndices(_ name: HeaderName) -> [Int] {
        let code = name.code
        var out: [Int] = []
        for (i, f) in fields.enumerated() where fieldMatches(f, name, code: code) { out.append(i) }
        return out
    }

    /// Index of the first line named `name`.
    func firstFieldIndex(_ name: HeaderName) -> Int? {
        let code = name.code
        return fields.firstIndex { fieldMatches($0, name, code: code) }
    }

    /// The whole value of the first header line named `name` (unfolded, trimmed), or nil.
    /// For a line carrying several comma-separated values this is all of them; see `headerValues`.
    public func header(_ name: HeaderName) -> String? {
        guard let i = firstFieldIndex(name) else { return nil }
        return makeString(valueBytes(fields[i]))
    }

    /// The value bytes of the first header line named `name` (unfolded, as `header(_:)` reads them), or
    /// nil: lets a reader that keeps a parsed value (a script run's To/From) tell whether it still holds.
    public func firstValueBytes(_ name: HeaderName) -> ArraySlice<UInt8>? {
        guard let i = firstFieldIndex(name) else { return nil }
        return valueBytes(fields[i])
    }

    /// True if at least one header line named `name` exists.
    public func hasHeader(_ name: HeaderName) -> Bool { firstFieldIndex(name) != nil }

    /// True if the first `name` header was added or rewritten after parsing (it is not the received one).
    public func isHeaderRewritten(_ name: HeaderName) -> Bool {
        guard let i = firstFieldIndex(name) else { return false }
        return fields[i].isOwned
    }

    /// All values of `name` across all its lines, split at top-level commas (outside quotes and
    /// `<>`) for list headers; empty elements are dropped.
    public func headerValues(_ name: HeaderName) -> [String] {
        var out: [String] = []
        let list = name.isList
        for i in fieldIndices(name) {
            let v = valueBytes(fields[i])
            if !list {
                out.append(makeString(v))
                continue
            }
            for r in splitTopLevel(v) where !r.isEmpty { out.append(makeString(v[r])) }
        }
        return out
    }

    /// Number of values of `name` (as `headerValues(name).count`).
    public func headerCount(_ name: HeaderName) -> Int { headerValues(name).count }

    /// Number of header lines named `name`.
    public func headerLineCount(_ name: HeaderName) -> Int {
        let code = name.code
        return fields.reduce(0) { $0 + (fieldMatches($1, name, code: code) ? 1 : 0) }
    }

    /// All header lines in order as (name, whole value).
    public var allHeaders: [(name: HeaderName, value: String)] {
        fields.map { (fieldName($0), makeString(valueBytes($0))) }
    }

    /// Raw values (split, including empty elements) of all lines named `name`, for typed parsers.
    func rawValues(_ name: HeaderName) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        for i in fieldIndices(name) {
            let v = valueBytes(fields[i])
            for r in splitTopLevel(v) { out.append(v[r]) }
        }
        return out
    }

    // MARK: - Typed accessors

    /// The top-most Via value.
    public func topVia() throws(SIPParseError) -> Via {
        guard let i = firstFieldIndex(.via) else { throw SIPParseError(.missingHeader(.via)) }
        let v = valueBytes(fields[i])
        guard let r = firstTopLevel(v) else { throw SIPParseError(.badVia) }
        return try Via(parsing: v[r])
    }

    /// All Via values, top first.
    public func vias() throws(SIPParseError) -> [Via] {
        var out: [Via] = []
        for v in rawValues(.via) { out.append(try Via(parsing: v)) }
        return out
    }

    /// The CSeq header.
    public func cseq() throws(SIPParseError) -> CSeq {
        guard let i = firstFieldIndex(.cseq) else { throw SIPParseError(.missingHeader(.cseq)) }
        return try CSeq(parsing: valueBytes(fields[i]))
    }

    /// The From header.
    public func from() throws(SIPParseError) -> NameAddr {
        guard let i = firstFieldIndex(.from) else { throw SIPParseError(.missingHeader(.from)) }
        do { return try NameAddr(parsing: valueBytes(fields[i])) } catch { throw SIPParseError(.badFrom) }
    }

    /// The To header.
    public func to() throws(SIPParseError) -> NameAddr {
        guard let i = firstFieldIndex(.to) else { throw SIPParseError(.missingHeader(.to)) }
        do { return try NameAddr(parsing: valueBytes(fields[i])) } catch { throw SIPParseError(.badTo) }
    }

    /// Max-Forwards (0...255), or nil when absent.
    public func maxForwards() throws(SIPParseError) -> Int? {
        guard let i = firstFieldIndex(.maxForwards) else { return nil }
        let v = valueBytes(fields[i])
        guard let n = v.parseDecimal(v.trimmedRange(v.startIndex..<v.endIndex)), n <= 255 else {
            throw SIPParseError(.badMaxForwards)
        }
        return Int(n)
    }

    /// True when the Contact header is the REGISTER wildcard `*`.
    public var isWildcardContact: Bool {
        let vals = rawValues(.contact)
        guard vals.count == 1 else { return false }
        let v = vals[0]
        return v.count == 1 && v.first == ASCII.star
    }

    /// All Contact values (empty for the `*` wildcard; see `isWildcardContact`).
    public func contacts() throws(SIPParseError) -> [NameAddr] {
        if isWildcardContact { return [] }
        return try nameAddrs(.contact, error: .badContact)
    }

    /// All Route values, top first.
    public func routes() throws(SIPParseError) -> [NameAddr] {
        try nameAddrs(.route, error: .badHeaderValue(.route))
    }

    /// All Record-Route values, top first.
    public func recordRoutes() throws(SIPParseError) -> [NameAddr] {
        try nameAddrs(.recordRoute, error: .badHeaderValue(.recordRoute))
    }

    func nameAddrs(_ name: HeaderName, error reason: SIPParseError.Reason) throws(SIPParseError) -> [NameAddr] {
        var out: [NameAddr] = []
        for v in rawValues(name) {
            do { out.append(try NameAddr(parsing: v)) } catch { throw SIPParseError(reason) }
        }
        return out
    }
}
