/// AVP values of one transaction: per AVP name (slot resolved at compile time) a stack of values.
///
/// Stored flat, oldest first, as (value, slot) entries in one array: a transaction with no AVP holds no
/// allocation and one with a single value holds one (it was an array of slots plus an array per used
/// slot; issue 19: memory per suspended transaction). Scripts keep a few values per transaction, so the
/// linear scans cost less than the per-slot arrays did. Index 0 in the script is the newest value
/// (OpenSIPS semantics). The proxy keeps this struct with the transaction and hands it back when a route
/// resumes.
public struct AVPStore: Sendable {
    /// One value of a slot. `value` first: the slot fills the enum's padding (24 bytes a value).
    struct Entry: Sendable {
        var value: ScriptValue
        var slot: Int32
    }

    /// All values, oldest first (per slot, in push order).
    private(set) var entries: [Entry] = []
    /// Number of slots (AVP names) the script declares; other slots are ignored.
    private let slotCount: Int32

    public init(count: Int) { slotCount = Int32(clamping: max(0, count)) }

    private func isValid(_ slot: Int) -> Bool { slot >= 0 && slot < Int(slotCount) }

    /// Position in `entries` of a script index (0 = newest; negative counts from the oldest: -1 = oldest).
    private func position(slot: Int, index: Int) -> Int? {
        let s = Int32(truncatingIfNeeded: slot)
        if index >= 0 {
            var remaining = index
            var i = entries.count - 1
            while i >= 0 {
                if entries[i].slot == s {
                    if remaining == 0 { return i }
                    remaining -= 1
                }
                i -= 1
            }
        } else {
            var remaining = -index - 1
            for i in entries.indices where entries[i].slot == s {
                if remaining == 0 { return i }
                remaining -= 1
            }
        }
        return nil
    }

    /// Newest-first values of a slot.
    public func values(slot: Int) -> [ScriptValue] {
        guard isValid(slot) else { return [] }
        let s = Int32(truncatingIfNeeded: slot)
        return entries.reversed().compactMap { $0.slot == s ? $0.value : nil }
    }

    /// Value at a script index (0 = newest; negative counts from the oldest: -1 = oldest).
    public func value(slot: Int, index: Int = 0) -> ScriptValue {
        guard isValid(slot), let pos = position(slot: slot, index: index) else { return .null }
        return entries[pos].value
    }

    /// Adds a value on top (`$avp(x) = v`).
    public mutating func push(slot: Int, _ value: ScriptValue) {
        guard isValid(slot) else { return }
        entries.append(Entry(value: value, slot: Int32(truncatingIfNeeded: slot)))
    }

    /// Removes the newest value (`$avp(x) = NULL`).
    public mutating func removeNewest(slot: Int) {
        guard isValid(slot), let pos = position(slot: slot, index: 0) else { return }
        entries.remove(at: pos)
    }

    /// Removes all values (`$avp(x) := NULL`).
    public mutating func removeAll(slot: Int) {
        guard isValid(slot) else { return }
        let s = Int32(truncatingIfNeeded: slot)
        entries.removeAll { $0.slot == s }
    }

    /// Overwrites (or deletes, for `.null`) the value at a script index.
    public mutating func set(slot: Int, index: Int, _ value: ScriptValue) {
        guard isValid(slot), let pos = position(slot: slot, index: index) else { return }
        if value.isNull { entries.remove(at: pos) } else { entries[pos].value = value }
    }

    /// Removes everything (new transaction).
    public mutating func reset() {
        if !entries.isEmpty { entries.removeAll(keepingCapacity: true) }
    }
}
