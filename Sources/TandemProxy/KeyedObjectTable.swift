import Synchronization

/// An object that carries the key it is filed under in a ``KeyedObjectTable`` (a server transaction
/// and its ``TransactionKey``). The key must not change while the object is in a table.
public protocol KeyedObject: AnyObject, Sendable {
    associatedtype Key: Hashable & Sendable
    var key: Key { get }
}

/// A hash table of objects that carry their own key, split into independently locked shards like
/// ``ShardedTable``. A shard maps the key's hash value to the object (or, in the rare case of equal hash
/// values, the objects) with that hash, so a slot holds 16 bytes — a hash and a reference — instead of a
/// copy of the key beside the reference (56 bytes for a transaction key): the server transaction table's
/// share of each transaction, with a dictionary's slack, falls from about 110 bytes to about 30 (issue 19:
/// memory per suspended transaction). A lookup compares the full key of every object under the hash.
///
/// A removal that leaves a shard far below its capacity rebuilds it smaller, as ``ShardedTable`` does
/// (issue 14: memory after a flood).
public final class KeyedObjectTable<Value: KeyedObject>: Sendable {
    /// The objects under one hash value: nearly always one.
    private enum Slot: Sendable {
        case one(Value)
        case several([Value])

        var values: [Value] {
            switch self {
            case .one(let value): [value]
            case .several(let values): values
            }
        }
    }

    private struct Entries: Sendable {
        var slots: [Int: Slot] = [:]
        /// Objects beyond the first under a hash (so that `slots.count + extra` is the count).
        var extra = 0
    }

    private final class Shard: Sendable {
        let entries = Mutex<Entries>(Entries())
    }

    private let shards: [Shard]
    private let mask: Int

    /// Creates a table with `shardCount` shards (rounded up to a power of two).
    public init(shardCount: Int = 64) {
        var count = 1
        while count < max(1, shardCount) { count <<= 1 }
        self.mask = count - 1
        self.shards = (0..<count).map { _ in Shard() }
    }

    /// The object filed under `key`, if present.
    public func lookup(_ key: Value.Key) -> Value? {
        let hash = key.hashValue
        return shards[hash & mask].entries.withLock { entries in
            switch entries.slots[hash] {
            case nil: nil
            case .one(let value)?: value.key == key ? value : nil
            case .several(let values)?: values.first { $0.key == key }
            }
        }
    }

    /// Files `value` under its key unless an object with that key is present; returns the object now
    /// filed under the key and whether `value` was inserted.
    public func insertIfAbsent(_ value: Value) -> (stored: Value, inserted: Bool) {
        let key = value.key
        let hash = key.hashValue
        return shards[hash & mask].entries.withLock { entries in
            guard let slot = entries.slots[hash] else {
                entries.slots[hash] = .one(value)
                return (value, true)
            }
            let present = slot.values
            if let existing = present.first(where: { $0.key == key }) { return (existing, false) }
            entries.slots[hash] = .several(present + [value])
            entries.extra += 1
            return (value, true)
        }
    }

    /// Removes and returns the object filed under `key`.
    @discardableResult
    public func remove(_ key: Value.Key) -> Value? {
        let hash = key.hashValue
        return shards[hash & mask].entries.withLock { entries -> Value? in
            guard let slot = entries.slots[hash] else { return nil }
            var present = slot.values
            guard let index = present.firstIndex(where: { $0.key == key }) else { return nil }
            let removed = present.remove(at: index)
            switch present.count {
            case 0: entries.slots.removeValue(forKey: hash)
            case 1: entries.slots[hash] = .one(present[0]); entries.extra -= 1
            default: entries.slots[hash] = .several(present); entries.extra -= 1
            }
            entries.slots.shrinkIfSparse()
            return removed
        }
    }

    /// Slots allocated over all shards (tests, diagnostics).
    public var capacity: Int {
        shards.reduce(0) { total, shard in total + shard.entries.withLock { $0.slots.capacity } }
    }

    /// The number of objects (sums the shards; not a snapshot across shards).
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.entries.withLock { $0.slots.count + $0.extra } }
    }
}

extension ProxyTransaction: KeyedObject {}
