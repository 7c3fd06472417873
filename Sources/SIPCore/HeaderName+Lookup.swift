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

    /// Lowercased canonical names bucketed by length, for byte lookup.
    static let byLength: [[(code: UInt8, lower: [UInt8])]] = {
        var buckets = [[(code: UInt8, lower: [UInt8])]](repeating: [], count: 32)
        for (i, info) in table.enumerated() {
            let l = info.canonical.utf8.map(asciiLower)
            if l.count < 32 { buckets[l.count].append((UInt8(i + 1), l)) }
        }
        return buckets
    }()

    /// Maps a lowercase compact letter to its code (0 when none).
    static let compactCodes: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 128)
        for (i, info) in table.enumerated() {
            if let k = info.compact { t[Int(k)] = UInt8(i + 1) }
        }
        return t
    }()

    /// Code of the header whose name is `p[r]` (case-insensitive); 0 when unknown.
    static func lookupCode(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> UInt8 {
        let n = r.count
        if n == 1 {
            let b = asciiLower(p[r.lowerBound])
            return b < 128 ? compactCodes[Int(b)] : 0
        }
        guard n > 1, n < 32 else { return 0 }
        let candidates = byLength[n]
        outer: for cand in candidates {
            var i = r.lowerBound
            for l in cand.lower {
                if asciiLower(p[i]) != l { continue outer }
                i += 1
            }
            return cand.code
        }
        return 0
    }
}
