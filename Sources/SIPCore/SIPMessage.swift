/// A SIP request or response backed by the bytes of one datagram.
///
/// Parsing (`init(parsing:)`) only locates the start line, header boundaries and body; header
/// values are parsed when an accessor asks for them. Edits (`prependHeader`, `removeFirstValue`,
/// ...) are kept as a header list whose entries point either into the original bytes or at new
/// bytes, so relaying a message copies untouched headers verbatim (`serialize()`).
public struct SIPMessage: Sendable {
    /// The original datagram.
    var bytes: [UInt8]
    var fields: [HeaderField]
    /// Replacement Request-URI text, if set.
    var newRequestURI: [UInt8]?
    /// Replacement body, if set.
    var newBody: [UInt8]?
    /// Lines added or rewritten after parsing (`HeaderField.isOwned`), one after the other. A line
    /// rewritten again is appended anew: the old bytes stay until the message is freed (a message is
    /// edited a bounded number of times).
    var extra: [UInt8] = []
    /// ``startLineRange`` and ``bodyRange`` as 32-bit offsets, as ``HeaderField`` keeps its own (a
    /// message is under 4 GiB): 16 bytes less in every stored message, such as a suspended
    /// transaction's two (issue 19: memory per suspended transaction).
    private var startLineBounds: (lower: UInt32, upper: UInt32)
    private var bodyBounds: (lower: UInt32, upper: UInt32)
    var start: StartLine

    var startLineRange: Range<Int> { Int(startLineBounds.lower)..<Int(startLineBounds.upper) }
    var bodyRange: Range<Int> { Int(bodyBounds.lower)..<Int(bodyBounds.upper) }

    private static func bounds(_ range: Range<Int>) -> (lower: UInt32, upper: UInt32) {
        (UInt32(range.lowerBound), UInt32(range.upperBound))
    }

    /// Default upper bound on the datagram size accepted by `init(parsing:)`.
    public static let defaultMaxSize = 65_535

    /// Parses a datagram. Throws `SIPParseError` for malformed start lines, header lines,
    /// Content-Length problems. Header values are not checked here (see `validateForProxy()`).
    public init(parsing data: [UInt8], maxSize: Int = SIPMessage.defaultMaxSize) throws(SIPParseError) {
        // Header offsets are stored as UInt32 (HeaderField).
        guard data.count <= maxSize, data.count < Int(UInt32.max) else { throw SIPParseError(.tooLarge) }
        bytes = data
        var fields: [HeaderField] = []
        fields.reserveCapacity(24)
        var startInfo: (StartLine, Range<Int>)? = nil
        let result: Result<Range<Int>, SIPParseError> = data.withUnsafeBufferPointer { p in
            SIPMessage.scan(p, fields: &fields, start: &startInfo)
        }
        switch result {
        case .success(let body):
            guard let (s, r) = startInfo else { throw SIPParseError(.badStartLine) }
            start = s
            startLineBounds = Self.bounds(r)
            self.fields = fields
            bodyBounds = Self.bounds(body)
        case .failure(var err):
            // A request whose start line parsed gets a 400 if it can be answered (see canBeAnswered).
            if let (s, r) = startInfo, case .request = s {
                let partial = SIPMessage(bytes: data, startLineRange: r, start: s, fields: fields, bodyRange: data.count..<data.count)
                if partial.canBeAnswered { err.shouldReply400 = true }
            }
            throw err
        }
    }

    /// For a datagram that failed to parse with `shouldReply400`: the request as far as it could be read
    /// (start line and header index, no body), enough to build the 400/505 reply. Nil otherwise.
    public static func partialRequest(parsing data: [UInt8]) -> SIPMessage? {
        var fields: [HeaderField] = []
        var startInfo: (StartLine, Range<Int>)? = nil
        _ = data.withUnsafeBufferPointer { p in SIPMessage.scan(p, fields: &fields, start: &startInfo) }
        guard let (s, r) = startInfo, case .request = s else { return nil }
        let partial = SIPMessage(bytes: data, startLineRange: r, start: s, fields: fields, bodyRange: data.count..<data.count)
        return partial.canBeAnswered ? partial : nil
    }

    /// True if a reply to this request could reach its sender: its top Via is usable, or there is a
    /// Via that does not parse (the reply then goes to the source address) and the Call-ID is readable
    /// (RFC 3261 §8.2: a request that can be told apart gets its 400).
    var canBeAnswered: Bool {
        guard isRequest else { return false }
        if (try? topVia()) != nil { return true }
        guard firstFieldIndex(.via) != nil, let callID = firstFieldIndex(.callID) else { return false }
        return !valueBytes(fields[callID]).isEmpty
    }

    init(bytes: [UInt8], startLineRange: Range<Int>, start: StartLine, fields: [HeaderField], bodyRange: Range<Int>) {
        self.bytes = bytes
        self.startLineBounds = Self.bounds(startLineRange)
        self.start = start
        self.fields = fields
        self.bodyBounds = Self.bounds(bodyRange)
        self.newRequestURI = nil
        self.newBody = nil
    }

    /// Index just past the line terminator starting at or after `i` (and the terminator start).
    @inline(__always)
    static func lineEnd(_ p: UnsafeBufferPointer<UInt8>, from i: Int) -> (contentEnd: Int, next: Int)? {
        var j = i
        let n = p.count
        while j < n, p[j] != ASCII.lf { j += 1 }
        guard j < n else { return nil }
        let ce = (j > i && p[j - 1] == ASCII.cr) ? j - 1 : j
        return (ce, j + 1)
    }

    /// Skips SP/HTAB and line folds (CRLF or LF followed by SP/HTAB).
    @inline(__always)
    static func skipLWS(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var i = i
        let n = p.count
        while i < n {
            let b = p[i]
            if isWS(b) { i += 1; continue }
            if b == ASCII.cr, i + 2 < n, p[i + 1] == ASCII.lf, isWS(p[i + 2]) { i += 3; continue }
            if b == ASCII.lf, i + 1 < n, isWS(p[i + 1]) { i += 2; continue }
            break
        }
        return i
    }

    /// Scans start line, header lines and body. Returns the body range.
    static func scan(_ p: UnsafeBufferPointer<UInt8>, fields: inout [HeaderField],
                     start: inout (StartLine, Range<Int>)?) -> Result<Range<Int>, SIPParseError> {
        let n = p.count
        var i = 0
        while i < n, p[i] == ASCII.cr || p[i] == ASCII.lf { i += 1 }
        guard i < n else { return .failure(SIPParseError(.empty)) }
        guard let (sle, afterStart) = lineEnd(p, from: i) else { return .failure(SIPParseError(.truncated)) }
        let deferred: SIPParseError?
        do {
            let (line, d) = try StartLine.parse(p, i..<sle)
            start = (line, i..<sle)
            deferred = d
        } catch {
            return .failure(error)
        }
        i = afterStart
        var bodyStart = n
        var contentLength: UInt64? = nil
        var clConflict = false
        var clBad = false
        // Read once, not through their global accessors on every line.
        let names = HeaderName.nameIndex
        let contentLengthCode = Self.contentLengthCode
        while i < n {
            let b = p[i]
            if b == ASCII.cr, i + 1 < n, p[i + 1] == ASCII.lf { bodyStart = i + 2; break }
            if b == ASCII.lf { bodyStart = i + 1; break }
            let ls = i
            while i < n, isTokenChar(p[i]) { i += 1 }
            let nameEnd = i
            guard nameEnd > ls, nameEnd - ls <= HeaderField.maximumNameLength else {
                return .failure(SIPParseError(.badHeaderName))
            }
            i = skipLWS(p, i)
            guard i < n, p[i] == ASCII.colon else { return .failure(SIPParseError(.badHeaderName)) }
            i = skipLWS(p, i + 1)
            let vs = i
            var folded = false
            var contentEnd = n
            var next = n
            while true {
                guard let (ce, nx) = lineEnd(p, from: i) else { contentEnd = n; next = n; break }
                if nx < n, isWS(p[nx]) { folded = true; i = nx; continue }
                contentEnd = ce
                next = nx
                break
            }
            var ve = max(vs, contentEnd)
            while ve > vs, isLWSByte(p[ve - 1]) { ve -= 1 }
            let code = names.code(p, ls..<nameEnd)
            fields.append(HeaderField(code: code, lineStart: ls, nameEnd: nameEnd,
                                      valueStart: vs, valueEnd: ve, folded: folded))
            if code == contentLengthCode {
                let r = p.trimmedRange(vs..<ve)
                if let v = folded ? nil : p.parseDecimal(r) {
                    if let old = contentLength, old != v { clConflict = true }
                    contentLength = v
                } else {
                    clBad = true
                }
            }
            i = next
        }
        if let deferred { return .failure(deferred) }
        if clBad { return .failure(SIPParseError(.badContentLength)) }
        if clConflict { return .failure(SIPParseError(.duplicateHeader(.contentLength))) }
        let available = n - bodyStart
        if let cl = contentLength {
            guard cl <= UInt64(available) else { return .failure(SIPParseError(.contentLengthMismatch)) }
            return .success(bodyStart..<(bodyStart + Int(cl)))
        }
        return .success(bodyStart..<n)
    }

    static let contentLengthCode = HeaderName.contentLength.code
}
