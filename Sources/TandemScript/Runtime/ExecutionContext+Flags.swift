extension ExecutionContext {
    /// `flags` as a list (`$bf`): the bits set, lowest first, by name when the script named them.
    func flagList(of flags: UInt64) -> String {
        guard flags != 0 else { return "" }
        var parts: [String] = []
        for bit in 0..<64 where flags & (1 << UInt64(bit)) != 0 { parts.append(flagNames[bit] ?? String(bit)) }
        return parts.joined(separator: " ")
    }
}
