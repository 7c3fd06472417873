/// One header line of a message: where its name and value live.
///
/// Untouched headers point into the original datagram (`SIPMessage.bytes`); new or rewritten ones
/// (`isOwned`) point into the message's own buffer `SIPMessage.extra`, where their whole line
/// `"Name: value"` lies between `lineStart` and `valueEnd`.
///
/// 16 bytes (issue 19: memory per suspended transaction): three offsets as `UInt32` (a message is at
/// most a few MB), the name as a `UInt16` length (the parser refuses a longer header name), the name
/// code and three flags. A stored request (a transaction's, a suspended one) keeps one per header line.
struct HeaderField: Sendable {
    private var storedLineStart: UInt32
    private var storedValueStart: UInt32
    private var storedValueEnd: UInt32
    private var storedNameLength: UInt16
    /// `HeaderName.code` (0 = other; compare the raw name then).
    var code: UInt8
    private var flags: UInt8

    private static let foldedFlag: UInt8 = 1
    private static let editedFlag: UInt8 = 2
    private static let ownedFlag: UInt8 = 4

    /// Longest header name a field can hold.
    static let maximumNameLength = Int(UInt16.max)

    @inline(__always)
    private func flag(_ f: UInt8) -> Bool { flags & f != 0 }
    @inline(__always)
    private mutating func setFlag(_ f: UInt8, _ on: Bool) { if on { flags |= f } else { flags &= ~f } }

    /// Value contains line folding (CRLF + WS) and must be unfolded before use.
    var folded: Bool {
        @inline(__always) get { flag(Self.foldedFlag) }
        set { setFlag(Self.foldedFlag, newValue) }
    }
    /// The value bounds were narrowed (e.g. top Via popped): serialize as `name: value`,
    /// not as the raw line.
    var edited: Bool {
        @inline(__always) get { flag(Self.editedFlag) }
        set { setFlag(Self.editedFlag, newValue) }
    }
    /// The line was added or rewritten: its offsets refer to `SIPMessage.extra`, not to the datagram.
    var isOwned: Bool { @inline(__always) get { flag(Self.ownedFlag) } }

    /// Start of the header name (line start).
    var lineStart: Int { @inline(__always) get { Int(storedLineStart) } }
    /// End of the header name.
    var nameEnd: Int { @inline(__always) get { Int(storedLineStart) + Int(storedNameLength) } }
    /// Value bounds (trimmed of surrounding whitespace).
    var valueStart: Int {
        @inline(__always) get { Int(storedValueStart) }
        @inline(__always) set { storedValueStart = UInt32(newValue) }
    }
    var valueEnd: Int { @inline(__always) get { Int(storedValueEnd) } }

    /// A header found in the original bytes (`nameEnd - lineStart` ≤ ``maximumNameLength``), or, with
    /// `owned`, a line in the message's `extra` buffer.
    init(code: UInt8, lineStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int, folded: Bool, owned: Bool = false) {
        self.code = code
        self.storedLineStart = UInt32(lineStart)
        self.storedNameLength = UInt16(nameEnd - lineStart)
        self.storedValueStart = UInt32(valueStart)
        self.storedValueEnd = UInt32(valueEnd)
        self.flags = (folded ? Self.foldedFlag : 0) | (owned ? Self.ownedFlag : 0)
    }
}
