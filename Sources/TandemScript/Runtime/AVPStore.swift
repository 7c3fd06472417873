/// AVP values of one transaction: per AVP name (slot resolved at compile time) a stack of values.
///
/// Stored oldest first internally; index 0 in the script is the newest value (OpenSIPS semantics).
/// The proxy keeps this struct with the transaction and hands it back when a route resumes.
public struct AVPStore: Sendable {
    var slots: [[ScriptValue]]

    public init(count: Int) { slots = Array(repeating: [], count: count) }

    /// Newest-first values of a slot.
    public func values(slot: Int) -> [ScriptValue] {
        guard slot >= 0 && slot < slots.count else { return [] }
        return slots[slot].reversed()
    }

    /// Value at a script index (0 = newest; negative counts from the oldest: -1 = oldest).
    public func value(slot: Int, index: Int = 0) -> ScriptValue {
        guard slot >= 0 && slot < slots.count else { return .null }
        let s = slots[slot]
        let pos = index >= 0 ? s.count - 1 - index : -index - 1
        guard pos >= 0 && pos < s.count else { return .null }
        return s[pos]
    }

    /// Adds a value on top (`$avp(x) = v`).
    public mutating func push(slot: Int, _ value: ScriptValue) {
        guard slot >= 0 && slot < slots.count else { return }
        slots[slot].append(value)
    }

    /// Removes the newest value (`$avp(x) = NULL`).
    public mutating func removeNewest(slot: Int) {
        guard slot >= 0 && slot < slots.count, !slots[slot].isEmpty else { return }
        slots[slot].removeLast()
    }

    /// Removes all values (`$avp(x) := NULL`).
    public mutating func removeAll(slot: Int) {
        guard slot >= 0 && slot < slots.count else { return }
        slots[slot].removeAll(keepingCapacity: true)
    }

    /// Overwrites (or deletes, for `.null`) the value at a script index.
    public mutating func set(slot: Int, index: Int, _ value: ScriptValue) {
        guard slot >= 0 && slot < slots.count else { return }
        let count = slots[slot].count
        let pos = index >= 0 ? count - 1 - index : -index - 1
        guard pos >= 0 && pos < count else { return }
        if value.isNull { slots[slot].remove(at: pos) } else { slots[slot][pos] = value }
    }

    /// Removes everything (new transaction).
    public mutating func reset() {
        for i in slots.indices where !slots[i].isEmpty { slots[i].removeAll(keepingCapacity: true) }
    }
}
