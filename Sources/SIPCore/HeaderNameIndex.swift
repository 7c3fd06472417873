/// The byte look-up of known header names (long and compact forms, any case) that the parser runs on
/// every header line: ``HeaderName/lookupCode(_:_:)``.
///
/// Built once from ``HeaderName/table`` into plain memory that is never freed, so a look-up touches no
/// reference count (the array of per-length arrays it replaces retained and released each candidate's
/// name, issue 19). Names are grouped by length; each entry is the header's code followed by its
/// lowercase canonical name.
struct HeaderNameIndex: @unchecked Sendable {  // immutable after init; the memory lives for the process
    /// Code by lowercase compact letter (0 when none), 128 entries.
    private let compact: UnsafePointer<UInt8>
    /// Where the entries of names of length `n` start in `entries` (`n` in 0...longest + 1).
    private let bucketStart: UnsafePointer<Int32>
    /// Per entry: the code, then the lowercase name.
    private let entries: UnsafePointer<UInt8>
    /// Names this long or longer are never known.
    static let lengthLimit = 32

    init(table: [HeaderInfo]) {
        let compact = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
        compact.initialize(repeating: 0, count: 128)
        var buckets = [[UInt8]](repeating: [], count: Self.lengthLimit)
        for (i, info) in table.enumerated() {
            let code = UInt8(i + 1)
            if let k = info.compact { compact[Int(k)] = code }
            let lower = info.canonical.utf8.map(asciiLower)
            if lower.count < Self.lengthLimit {
                buckets[lower.count].append(code)
                buckets[lower.count].append(contentsOf: lower)
            }
        }
        let starts = UnsafeMutablePointer<Int32>.allocate(capacity: Self.lengthLimit + 1)
        var flat: [UInt8] = []
        for n in 0..<Self.lengthLimit {
            starts[n] = Int32(flat.count)
            flat.append(contentsOf: buckets[n])
        }
        starts[Self.lengthLimit] = Int32(flat.count)
        let entries = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, flat.count))
        entries.initialize(from: flat, count: flat.count)
        self.compact = UnsafePointer(compact)
        bucketStart = UnsafePointer(starts)
        self.entries = UnsafePointer(entries)
    }

    /// Code of the header whose name is `p[r]` (case-insensitive); 0 when unknown.
    @inline(__always)
    func code(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> UInt8 {
        let n = r.count
        if n == 1 {
            let b = asciiLower(p[r.lowerBound])
            return b < 128 ? compact[Int(b)] : 0
        }
        guard n > 1, n < Self.lengthLimit else { return 0 }
        var e = Int(bucketStart[n])
        let end = Int(bucketStart[n + 1])
        let first = asciiLower(p[r.lowerBound])
        while e < end {
            if entries[e + 1] == first {
                var j = 1
                while j < n, asciiLower(p[r.lowerBound + j]) == entries[e + 1 + j] { j += 1 }
                if j == n { return entries[e] }
            }
            e += n + 1
        }
        return 0
    }
}
