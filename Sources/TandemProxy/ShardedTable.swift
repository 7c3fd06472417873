import Synchronization

/// A hash table split into independently locked shards, so that workers looking up different
/// transactions never contend on one global lock.
///
/// Each shard is a `Mutex` around a dictionary; a key always lands in the same shard
/// (by its hash), so all operations on one key are linearizable.
///
/// A Swift dictionary keeps its storage when entries are removed, so after a flood every shard would
/// hold the capacity of its peak for good (issue 14: memory after a flood). A removal that leaves a
/// shard below an eighth of its capacity rebuilds it at twice its count: O(count) under the shard lock,
/// at most once per halving of the count, so O(1) amortized per removal.
public final class ShardedTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private final class Shard: Sendable {
        let entries = Mutex<[Key: Value]>([:])
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

    @inline(__always)
    private func shard(for key: Key) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        return hasher.finalize() & mask
    }

    /// The value for `key`, if present.
    public func lookup(_ key: Key) -> Value? {
        shards[shard(for: key)].entries.withLock { $0[key] }
    }

    /// Inserts `value` unless the key is present; returns the value now stored and whether it was inserted.
    public func insertIfAbsent(_ key: Key, _ value: Value) -> (stored: Value, inserted: Bool) {
        shards[shard(for: key)].entries.withLock { dict in
            if let existing = dict[key] { return (existing, false) }
            dict[key] = value
            return (value, true)
        }
    }

    /// Stores `value` for `key`, replacing any previous value.
    public func set(_ key: Key, _ value: Value) {
        shards[shard(for: key)].entries.withLock { $0[key] = value }
    }

    /// Runs `body` on the value for `key` (nil when absent; set it to nil to remove) under the shard lock.
    ///
    /// The value is handed to `body` in place (the dictionary's modify accessor), uniquely referenced:
    /// a copy-on-write value (a `Set`, an `Array`) is mutated without being copied, so a change costs
    /// what the mutation costs, not the size of the value.
    public func modify<R: Sendable>(_ key: Key, _ body: (inout Value?) -> R) -> R {
        shards[shard(for: key)].entries.withLock { dict in
            let result = body(&dict[key])
            dict.shrinkIfSparse()
            return result
        }
    }

    /// Removes and returns the value for `key`.
    @discardableResult
    public func remove(_ key: Key) -> Value? {
        shards[shard(for: key)].entries.withLock { dict in
            let removed = dict.removeValue(forKey: key)
            if removed != nil { dict.shrinkIfSparse() }
            return removed
        }
    }

    /// Slots allocated over all shards (tests, diagnostics).
    public var capacity: Int {
        shards.reduce(0) { total, shard in total + shard.entries.withLock { $0.capacity } }
    }

    /// The number of entries (sums the shards; not a snapshot across shards).
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.entries.withLock { $0.count } }
    }
}
