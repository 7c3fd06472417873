import Synchronization

/// The answers of every worker's resolver, shared by all workers: records until their TTL runs out,
/// negative answers (RFC 2308) until their capped TTL, failures never. At most ``capacity`` entries:
/// a full cache first drops expired entries, then an eighth of the rest.
///
/// Times are monotonic nanoseconds given by the caller, so tests drive expiry by hand.
public final class DNSCache: Sendable {
    private struct Entry: Sendable {
        var answer: DNSAnswer
        var expires: UInt64
    }

    /// The most entries kept.
    public let capacity: Int
    private let table = Mutex<[DNSQuestion: Entry]>([:])

    public init(capacity: Int = 10_000) {
        self.capacity = max(16, capacity)
    }

    /// Entries held (expired ones included until touched).
    public var count: Int { table.withLock { $0.count } }

    /// The live answer to `question`, or nil (an expired entry is dropped).
    public func lookup(_ question: DNSQuestion, now: UInt64) -> DNSAnswer? {
        table.withLock { table in
            guard let entry = table[question] else { return nil }
            if entry.expires <= now {
                table[question] = nil
                return nil
            }
            return entry.answer
        }
    }

    /// Keeps `answer` for its TTL (failures and zero TTLs are not kept).
    public func store(_ question: DNSQuestion, _ answer: DNSAnswer, now: UInt64) {
        let ttl: UInt32
        switch answer {
        case .records(_, let t): ttl = t
        case .negative(_, let t): ttl = t
        case .failure: return
        }
        guard ttl > 0 else { return }
        let entry = Entry(answer: answer, expires: now + UInt64(ttl) * 1_000_000_000)
        let capacity = self.capacity
        table.withLock { table in
            if table[question] == nil, table.count >= capacity {
                table = table.filter { $0.value.expires > now }
                if table.count >= capacity {
                    for key in table.keys.prefix(max(1, capacity / 8)) { table[key] = nil }
                }
            }
            table[question] = entry
        }
    }

    /// Forgets everything.
    public func removeAll() { table.withLock { $0.removeAll() } }
}
