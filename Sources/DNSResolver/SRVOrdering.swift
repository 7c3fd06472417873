/// RFC 2782 target order: ascending priority; within one priority, a weighted random order: each
/// pick chooses a remaining record with probability weight / sum of remaining weights (the random
/// number is drawn in 1...sum, so the distribution is exact and a zero-weight record is only picked
/// once no weighted record is left; among those, in the order received).
public enum SRVOrdering {
    /// `records` in the order to try. `random(n)` returns a uniform value in `0...n`.
    public static func order(_ records: [SRVRecord], random: (UInt32) -> UInt32 = SRVOrdering.systemRandom) -> [SRVRecord] {
        let priorities = Set(records.map(\.priority)).sorted()
        var ordered: [SRVRecord] = []
        ordered.reserveCapacity(records.count)
        for priority in priorities {
            var group = records.filter { $0.priority == priority }
            group.sort { ($0.weight == 0 ? 0 : 1) < ($1.weight == 0 ? 0 : 1) }
            while !group.isEmpty {
                let total = group.reduce(UInt32(0)) { $0 + UInt32($1.weight) }
                let pick = total == 0 ? 0 : random(total - 1) + 1
                var running: UInt32 = 0
                var chosen = group.count - 1
                for (index, record) in group.enumerated() {
                    running += UInt32(record.weight)
                    if running >= pick { chosen = index; break }
                }
                ordered.append(group.remove(at: chosen))
            }
        }
        return ordered
    }

    /// A uniform value in `0...upper` from the system generator.
    public static func systemRandom(_ upper: UInt32) -> UInt32 { UInt32.random(in: 0...upper) }
}
