/// One header line of a message: where its name and value live.
///
/// Untouched headers point into the original datagram (`owned == nil`); new or rewritten ones
/// carry their own bytes `"Name: value"` in `owned` and the indices refer to that buffer.
struct HeaderField: Sendable {
    /// `HeaderName.code` (0 = other; compare the raw name then).
    var code: UInt8
    /// Value contains line folding (CRLF + WS) and must be unfolded before use.
    var folded: Bool
    /// The value bounds were narrowed (e.g. top Via popped): serialize as `name: value`,
    /// not as the raw line.
    var edited: Bool
    // Offsets stored as UInt32 (a message is at most a few MB): 32 bytes per field instead of 56, which
    // every parsed message (24 reserved) and every stored request (a transaction's) pays.
    private var storedLineStart: UInt32
    private var storedNameEnd: UInt32
    private var storedValueStart: UInt32
    private var storedValueEnd: UInt32
    /// Owned line bytes for new/replaced headers.
    var owned: [UInt8]?

    /// Start of the header name (line start).
    var lineStart: Int {
        @inline(__always) get { Int(storedLineStart) }
        @inline(__always) set { storedLineStart = UInt32(newValue) }
    }
    /// End of the header name.
    var nameEnd: Int {
        @inline(__always) get { Int(storedNameEnd) }
        @inline(__always) set { storedNameEnd = UInt32(newValue) }
    }
    /// Value bounds (trimmed of surrounding whitespace).
    var valueStart: Int {
        @inline(__always) get { Int(storedValueStart) }
        @inline(__always) set { storedValueStart = UInt32(newValue) }
    }
    var valueEnd: Int {
        @inline(__always) get { Int(storedValueEnd) }
        @inline(__always) set { storedValueEnd = UInt32(newValue) }
    }

    /// A new header with owned bytes `Name: value`.
    init(name: HeaderName, value: String) {
        var line = Array(name.canonicalName.utf8)
        let nameEnd = line.count
        line.append(ASCII.colon)
        line.append(ASCII.sp)
        let vs = line.count
        line.append(contentsOf: value.utf8)
        self.code = name.code
        self.storedLineStart = 0
        self.storedNameEnd = UInt32(nameEnd)
        self.storedValueStart = UInt32(vs)
        self.storedValueEnd = UInt32(line.count)
        self.folded = false
        self.edited = false
        self.owned = line
    }

    /// A header found in the original bytes.
    init(code: UInt8, lineStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int, folded: Bool) {
        self.code = code
        self.storedLineStart = UInt32(lineStart)
        self.storedNameEnd = UInt32(nameEnd)
        self.storedValueStart = UInt32(valueStart)
        self.storedValueEnd = UInt32(valueEnd)
        self.folded = folded
        self.edited = false
        self.owned = nil
    }
}
