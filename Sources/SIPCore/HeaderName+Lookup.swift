/// Equality, hashing, spelling and byte lookup for `HeaderName`.
extension HeaderName: Hashable {
    public static func == (a: HeaderName, b: HeaderName) -> Bool {
        switch (a, b) {
        case (.other(let x), .other(let y)):
            return x.utf8.count == y.utf8.count && x.utf8.elementsEqual(y.utf8, by: { asciiLower($0) == asciiLower($1) })
        case (.other, _), (_, .other):
            return false
        default:
            return a.code == b.code
        }
    }

    public func hash(into h: inout Hasher) {
        let c = code
        h.combine(c)
        if case .other(let s) = self {
            for b in s.utf8 { h.combine(asciiLower(b)) }
        }
    }
}

extension HeaderName {
    /// Parses a header name as written (long or compact form, any case).
    public init(_ name: String) {
        // A native string's own bytes (no array copy: scripts name headers on every `$hdr` read).
        let c = name.utf8.withContiguousStorageIfAvailable { HeaderName.lookupCode($0, 0..<$0.count) }
            ?? Array(name.utf8).withUnsafeBufferPointer { HeaderName.lookupCode($0, 0..<$0.count) }
        self = c == 0 ? .other(name) : HeaderName.table[Int(c) - 1].name
    }

    /// The canonical long spelling (`"Call-ID"`), or the raw name for `.other`.
    public var canonicalName: String {
        if case .other(let s) = self { return s }
        return HeaderName.table[Int(code) - 1].canonical
    }

    /// The compact form letter (`"v"` for Via), if the header has one.
    public var compactForm: String? {
        let c = code
        guard c != 0, let k = HeaderName.table[Int(c) - 1].compact else { return nil }
        return String(UnicodeScalar(k))
    }

    /// Whether values of this header are a comma-separated list (Via, Route, Contact, ...).
    /// Unknown headers are treated as lists.
    public var isList: Bool {
        let c = code
        return c == 0 ? true : HeaderName.table[Int(c) - 1].isList
    }

    public var description: String { canonicalName }

    /// Known names for byte look-up (``HeaderNameIndex``).
    static let nameIndex = HeaderNameIndex(table: table)

    /// Code of the header whose name is `p[r]` (case-insensitive); 0 when unknown.
    static func lookupCode(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> UInt8 {
        nameIndex.code(p, r)
    }
}
