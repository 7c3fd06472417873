import Synchronization

/// The location service (OpenSIPS's usrloc, `single-instance-no-db`): address-of-record → registered
/// contacts, in memory, split into shards by a hash of the AOR so that workers registering different
/// users never wait for one another. Time is in seconds on the caller's clock; expired contacts are
/// never returned and are removed by ``purgeExpired(now:)`` (run on a worker timer) or when their AOR is
/// next written.
public final class LocationService: Sendable {
    /// One shard: AOR → its contacts, under one lock.
    private final class Shard: Sendable {
        let table = Mutex<[String: [LocationContact]]>([:])

        func withLock<Result>(_ body: (inout [String: [LocationContact]]) throws -> Result) rethrows -> Result {
            try table.withLock { try body(&$0) }
        }
    }

    private let shards: [Shard]
    /// AORs changed since the last ``takeDirty()`` (write-back and deferred database writes).
    private let dirty = Mutex<Set<String>>([])

    /// A service with `shardCount` shards (at least 1).
    public init(shardCount: Int = 64) {
        shards = (0..<max(1, shardCount)).map { _ in Shard() }
    }

    private func shard(for aor: String) -> Shard {
        var hasher = Hasher()
        hasher.combine(aor)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    /// The live contacts of `aor`, best q first (equal q: the most recently refreshed first).
    public func contacts(of aor: String, now: UInt64) -> [LocationContact] {
        let all = shard(for: aor).withLock { $0[aor] ?? [] }
        return Self.ordered(all.filter { $0.expires > now })
    }

    /// Runs `body` on the stored contacts of `aor` (expired ones already dropped) under the shard's
    /// lock and stores what it leaves; an empty list removes the AOR.
    public func update<Result>(_ aor: String, now: UInt64,
                               _ body: (inout [LocationContact]) throws -> Result) rethrows -> Result {
        try shard(for: aor).withLock { table in
            var contacts = (table[aor] ?? []).filter { $0.expires > now }
            let result = try body(&contacts)
            table[aor] = contacts.isEmpty ? nil : contacts
            return result
        }
    }

    /// Removes every contact of `aor` (or only the one whose URI is `contact`). Returns how many went.
    @discardableResult
    public func remove(_ aor: String, contact: String? = nil) -> Int {
        shard(for: aor).withLock { table in
            guard var contacts = table[aor] else { return 0 }
            let before = contacts.count
            if let contact { contacts.removeAll { $0.uri == contact } } else { contacts.removeAll() }
            table[aor] = contacts.isEmpty ? nil : contacts
            return before - contacts.count
        }
    }

    /// Replaces the stored contacts of `aor` with `contacts` (what the database holds for it).
    public func replace(_ aor: String, with contacts: [LocationContact]) {
        shard(for: aor).withLock { $0[aor] = contacts.isEmpty ? nil : contacts }
    }

    /// Notes that `aor` changed and has to be written to the database.
    public func markDirty(_ aor: String) {
        _ = dirty.withLock { $0.insert(aor) }
    }

    /// The AORs changed since the last call, and forgets them.
    public func takeDirty() -> [String] {
        dirty.withLock { set in
            defer { set.removeAll() }
            return Array(set)
        }
    }

    /// Drops every expired contact; returns how many.
    @discardableResult
    public func purgeExpired(now: UInt64) -> Int {
        var purged = 0
        for shard in shards {
            shard.withLock { table in
                for (aor, contacts) in table {
                    let live = contacts.filter { $0.expires > now }
                    guard live.count != contacts.count else { continue }
                    purged += contacts.count - live.count
                    table[aor] = live.isEmpty ? nil : live
                }
            }
        }
        return purged
    }

    /// Number of AORs with at least one stored contact (expired ones not yet purged included).
    public var recordCount: Int { shards.reduce(0) { $0 + $1.withLock { $0.count } } }

    /// Number of stored contacts (expired ones not yet purged included).
    public var contactCount: Int { shards.reduce(0) { $0 + $1.withLock { $0.values.reduce(0) { $0 + $1.count } } } }

    /// Contacts by q, highest first; stable, so equal q keeps the stored (registration) order.
    static func ordered(_ contacts: [LocationContact]) -> [LocationContact] {
        contacts.enumerated().sorted { a, b in
            a.element.effectiveQ != b.element.effectiveQ ? a.element.effectiveQ > b.element.effectiveQ
                : a.offset < b.offset
        }.map(\.element)
    }
}
