/// `serialize_branches()`: a destination set split into the groups `next_branches()` tries in turn.
public enum BranchSerialization {
    /// Groups of equal q, highest q first (a branch without q counts as 1.0, RFC 3261 §16.6); within a
    /// group the set's order is kept. With `keepOrder` every branch is its own group, in set order.
    /// Nil when `set` is empty.
    public static func groups(_ set: [BranchTarget], keepOrder: Bool) -> [[BranchTarget]]? {
        guard !set.isEmpty else { return nil }
        if keepOrder { return set.map { [$0] } }
        var byQ: [(q: Int, branches: [BranchTarget])] = []
        for branch in set {
            let q = branch.q ?? 1000
            if let i = byQ.firstIndex(where: { $0.q == q }) { byQ[i].branches.append(branch) }
            else { byQ.append((q, [branch])) }
        }
        // A stable sort keeps groups of the same q in their first appearance order.
        return byQ.enumerated().sorted { a, b in
            a.element.q != b.element.q ? a.element.q > b.element.q : a.offset < b.offset
        }.map(\.element.branches)
    }
}
