extension Dictionary {
    /// Dictionaries smaller than this many slots are never rebuilt by ``shrinkIfSparse()``.
    static var minimumShrinkCapacity: Int { 64 }

    /// Rebuilds the dictionary smaller when it fell far below its capacity (fewer than one entry in
    /// eight slots): a Swift dictionary never gives back the slots a flood made it grow to. Used by the
    /// sharded tables after each removal, so the cost is paid once per shrink, not per call.
    @inline(__always)
    mutating func shrinkIfSparse() {
        let capacity = self.capacity
        guard capacity >= Self.minimumShrinkCapacity, count * 8 < capacity else { return }
        var smaller = Self(minimumCapacity: count * 2)
        for (key, value) in self { smaller[key] = value }
        self = smaller
    }
}
