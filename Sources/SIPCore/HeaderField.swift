/// One header line of a message: where its name and value live.
///
/// Untouched headers point into the original datagram (`owned == nil`); new or rewritten ones
/// carry their own bytes `"Name: value"` in `owned` and the indices refer to that buffer.
struct HeaderField: Sendable {
    /// `HeaderName.code` (0 = other; compare the raw name then).
    var code: UInt8
    /// Start of the header name (line start).
    var lineStart: Int
    /// End of the header name.
    var nameEnd: Int
    /// Value bounds (trimmed of surrounding whitespace).
    var valueStart: Int
    var valueEnd: Int
    /// Value contains line folding (CRLF + WS) and must be unfolded before use.
    var folded: Bool
    /// The value bounds were narrowed (e.g. top Via popped): serialize as `name: value`,
    /// not as the raw line.
    var edited: Bool
    /// Owned line bytes for new/replaced headers.
    var owned: [UInt8]?

    /// A new header with owned bytes `Name: value`.
    init(name: HeaderName, value: String) {
        var line = Array(name.canonicalName.utf8)
        let nameEnd = line.count
        line.append(ASCII.colon)
        line.append(ASCII.sp)
        let vs = line.count
        line.append(contentsOf: value.utf8)
        self.code = name.code
        self.lineStart = 0
        self.nameEnd = nameEnd
        self.valueStart = vs
        self.valueEnd = line.count
        self.folded = false
        self.edited = false
        self.owned = line
    }

    /// A header found in the original bytes.
    init(code: UInt8, lineStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int, folded: Bool) {
        self.code = code
        self.lineStart = lineStart
        self.nameEnd = nameEnd
        self.valueStart = valueStart
        self.valueEnd = valueEnd
        self.folded = folded
        self.edited = false
        self.owned = nil
    }
}
