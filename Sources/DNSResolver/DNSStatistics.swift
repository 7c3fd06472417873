import Synchronization

/// Process-wide resolver counters (every worker of one ``DNSEnvironment`` adds to the same ones), for
/// `/stats` and metrics.
public final class DNSStatistics: Sendable {
    /// One counter.
    public enum Counter: Int, CaseIterable, Sendable {
        /// Queries sent to a name server (after cache and in-flight joining).
        case queries
        /// Questions answered from the cache with records.
        case cacheHits
        /// Questions answered from the cache with a negative answer (NXDOMAIN/NODATA).
        case negativeHits
        /// Questions not in the cache (a query was sent or joined).
        case cacheMisses
        /// Questions that joined a query already in flight instead of sending one.
        case joined
        /// Queries that timed out on every server.
        case timeouts
        /// Queries answered with SERVFAIL/REFUSED or unusable replies.
        case serverErrors
        /// Branches moved to the next DNS target after a failure.
        case failovers

        /// The name in `/stats`.
        public var name: String {
            switch self {
            case .queries: "queries"
            case .cacheHits: "cache_hits"
            case .negativeHits: "negative_hits"
            case .cacheMisses: "cache_misses"
            case .joined: "joined"
            case .timeouts: "timeouts"
            case .serverErrors: "server_errors"
            case .failovers: "failovers"
            }
        }
    }

    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    public init() {}

    /// Adds `n` to `counter`.
    public func add(_ counter: Counter, _ n: Int = 1) { values.withLock { $0[counter.rawValue] += n } }

    /// The value of `counter`.
    public func value(_ counter: Counter) -> Int { values.withLock { $0[counter.rawValue] } }

    /// Every counter by name.
    public func snapshot() -> [String: Int] {
        let copy = values.withLock { $0 }
        var result: [String: Int] = [:]
        for counter in Counter.allCases { result[counter.name] = copy[counter.rawValue] }
        return result
    }
}
