import Synchronization

/// The answers of every worker's resolver, shared by all workers: records until their TTL runs out,
/// negative answers (RFC 2308) until their capped TTL, failures never. At most about ``capacity``
/// entries: a full shard first drops expired entries, then an eighth of the rest.
///
/// It also holds the questions in flight, so that one query serves every worker: the first resolver to
/// miss a question becomes its owner and sends the query (``begin(_:now:joiner:)`` returns
/// ``Begin/owner(_:)``); a resolver of another worker that misses it meanwhile leaves one joiner (a
/// `Sendable` closure that hands the answer over to its own worker) instead of sending another query;
/// the owner's ``complete(_:token:answer:now:)`` stores the answer and returns the joiners to call.
///
/// The table is split into shards by question, one lock each; nothing done under a lock grows with the
/// number of waiters except appending a joiner (one per worker, not per request).
///
/// Times are monotonic nanoseconds given by the caller, so tests drive expiry by hand.
public final class DNSCache: Sendable {
    /// Hands an answer to a resolver waiting on another worker (any thread may call it).
    public typealias Joiner = @Sendable (DNSAnswer) -> Void

    /// What ``begin(_:now:joiner:)`` found.
    public enum Begin: Sendable {
        /// A live answer (the joiner was not kept).
        case cached(DNSAnswer)
        /// Another resolver's query is in flight; the joiner will be called with its answer.
        case joined
        /// No answer and no query in flight: the caller sends the query and completes it with this token.
        case owner(UInt64)
    }

    private struct Entry: Sendable {
        var answer: DNSAnswer
        var expires: UInt64
    }

    private struct Pending: Sendable {
        var token: UInt64
        var started: UInt64
        var joiners: [Joiner]
    }

    private struct Shard: Sendable {
        var entries: [DNSQuestion: Entry] = [:]
        var pending: [DNSQuestion: Pending] = [:]
    }

    /// One shard and its lock (a class: an array cannot hold a `Mutex`).
    private final class LockedShard: Sendable {
        let state = Mutex(Shard())
    }

    /// The most entries kept.
    public let capacity: Int
    /// A question in flight longer than this (nanoseconds) is taken over by the next resolver that misses
    /// it (its owner's worker stopped without completing it); the joiners stay attached.
    public let inFlightLimit: UInt64
    private let shards: [LockedShard]
    private let shardCapacity: Int
    private let nextToken = Atomic<UInt64>(1)

    /// A cache of at most about `capacity` entries; `inFlightLimitSeconds` bounds how long a question can
    /// stay in flight before another resolver takes it over.
    public init(capacity: Int = 10_000, inFlightLimitSeconds: UInt64 = 30) {
        self.capacity = max(16, capacity)
        var count = 1
        while count < 16, count * 2 * 64 <= self.capacity { count *= 2 }
        shards = (0..<count).map { _ in LockedShard() }
        shardCapacity = max(1, self.capacity / count)
        inFlightLimit = inFlightLimitSeconds * 1_000_000_000
    }

    private func shard(_ question: DNSQuestion) -> LockedShard {
        shards[Int(UInt(bitPattern: question.hashValue) % UInt(shards.count))]
    }

    /// Entries held (expired ones included until touched).
    public var count: Int { shards.reduce(0) { sum, shard in sum + shard.state.withLock { $0.entries.count } } }

    /// Questions in flight (across every worker).
    public var inFlightCount: Int { shards.reduce(0) { sum, shard in sum + shard.state.withLock { $0.pending.count } } }

    /// The live answer to `question`, or nil (an expired entry is dropped).
    public func lookup(_ question: DNSQuestion, now: UInt64) -> DNSAnswer? {
        shard(question).state.withLock { Self.live(&$0, question, now: now) }
    }

    private static func live(_ shard: inout Shard, _ question: DNSQuestion, now: UInt64) -> DNSAnswer? {
        guard let entry = shard.entries[question] else { return nil }
        if entry.expires <= now {
            shard.entries[question] = nil
            return nil
        }
        return entry.answer
    }

    /// The live answer to `question`; else joins the query in flight for it (keeping `joiner`); else
    /// makes the caller the owner of a new query.
    public func begin(_ question: DNSQuestion, now: UInt64, joiner: @escaping Joiner) -> Begin {
        let fresh = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        let limit = inFlightLimit
        return shard(question).state.withLock { shard in
            if let answer = Self.live(&shard, question, now: now) { return .cached(answer) }
            if shard.pending[question] != nil {
                if now &- shard.pending[question]!.started < limit {
                    shard.pending[question]!.joiners.append(joiner)
                    return .joined
                }
                // Stale: the caller takes it over; the earlier joiners wait for its answer.
                shard.pending[question]!.token = fresh
                shard.pending[question]!.started = now
                return .owner(fresh)
            }
            shard.pending[question] = Pending(token: fresh, started: now, joiners: [])
            return .owner(fresh)
        }
    }

    /// Ends the query `token` for `question`: stores `answer` (see ``store(_:_:now:)``) and returns the
    /// joiners to call (none if the query was taken over meanwhile).
    public func complete(_ question: DNSQuestion, token: UInt64, answer: DNSAnswer, now: UInt64) -> [Joiner] {
        let entry = Self.entry(answer, now: now)
        let capacity = shardCapacity
        return shard(question).state.withLock { shard in
            if let entry { Self.insert(&shard, question, entry, now: now, capacity: capacity) }
            guard shard.pending[question]?.token == token else { return [] }
            return shard.pending.removeValue(forKey: question)?.joiners ?? []
        }
    }

    /// Keeps `answer` for its TTL (failures and zero TTLs are not kept).
    public func store(_ question: DNSQuestion, _ answer: DNSAnswer, now: UInt64) {
        guard let entry = Self.entry(answer, now: now) else { return }
        let capacity = shardCapacity
        shard(question).state.withLock { Self.insert(&$0, question, entry, now: now, capacity: capacity) }
    }

    private static func entry(_ answer: DNSAnswer, now: UInt64) -> Entry? {
        let ttl: UInt32
        switch answer {
        case .records(_, let t): ttl = t
        case .negative(_, let t): ttl = t
        case .failure: return nil
        }
        guard ttl > 0 else { return nil }
        return Entry(answer: answer, expires: now + UInt64(ttl) * 1_000_000_000)
    }

    private static func insert(_ shard: inout Shard, _ question: DNSQuestion, _ entry: Entry, now: UInt64,
                               capacity: Int) {
        if shard.entries[question] == nil, shard.entries.count >= capacity {
            shard.entries = shard.entries.filter { $0.value.expires > now }
            if shard.entries.count >= capacity {
                for key in shard.entries.keys.prefix(max(1, capacity / 8)) { shard.entries[key] = nil }
            }
        }
        shard.entries[question] = entry
    }

    /// Forgets every answer (questions in flight stay).
    public func removeAll() {
        for shard in shards { shard.state.withLock { $0.entries.removeAll() } }
    }
}
