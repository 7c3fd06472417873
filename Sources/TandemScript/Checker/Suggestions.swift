/// "Did you mean" hints for misspelled names in `tandem check` messages.
enum Suggestions {
    /// The candidate closest to `name` by edit distance (case-insensitive), if close enough to be
    /// a likely typo: one edit for short names, two up to 8 characters, three beyond.
    static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        let target = Array(name.lowercased().utf8)
        let exact = Array(name.utf8)
        let limit = target.count <= 4 ? 1 : (target.count <= 8 ? 2 : 3)
        // Ranked by case-insensitive distance, then case-sensitive distance, then name (deterministic).
        var best: (name: String, d: Int, dc: Int)?
        for c in candidates where c != name {
            let d = distance(target, Array(c.lowercased().utf8), limit: limit)
            guard d <= limit else { continue }
            let dc = distance(exact, Array(c.utf8), limit: limit + target.count)
            if let b = best, (d, dc, c) >= (b.d, b.dc, b.name) { continue }
            best = (c, d, dc)
        }
        return best?.name
    }

    /// ` (did you mean 'x'?)`, or "" when nothing is close.
    static func hint(for name: String, in candidates: some Sequence<String>) -> String {
        closest(to: name, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// Edit distance counting an adjacent transposition as one edit (`xlgo` → `xlog`), giving up
    /// (returning `limit + 1`) once every path exceeds `limit`.
    static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var v = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] { v = min(v, before[j - 2] + 1) }
                current[j] = v
                rowMin = min(rowMin, v)
            }
            if rowMin > limit { return limit + 1 }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}
