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

    /// What one name server did with the UDP queries sent to it (counted on the worker's sockets, see
    /// `AresServerTracker`): c-ares itself does not say which server failed.
    public enum ServerCounter: Int, CaseIterable, Sendable {
        /// Queries sent (retransmissions included).
        case sent
        /// Replies read (answers, NXDOMAIN and NODATA included).
        case answered
        /// Replies with RCODE SERVFAIL, NOTIMP or REFUSED.
        case failed
        /// Socket errors: ICMP port/host unreachable (`ECONNREFUSED`…) on the server's socket.
        case unreachable

        /// The name in `/stats` (`dns.servers`) and the metric (`tandem_dns_server_<name>_total`).
        public var name: String {
            switch self {
            case .sent: "sent"
            case .answered: "answered"
            case .failed: "failed"
            case .unreachable: "unreachable"
            }
        }
    }

    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))
    private let servers = Mutex([String: [Int]]())

    public init() {}

    /// Adds `n` to `counter`.
    public func add(_ counter: Counter, _ n: Int = 1) { values.withLock { $0[counter.rawValue] += n } }

    /// The value of `counter`.
    public func value(_ counter: Counter) -> Int { values.withLock { $0[counter.rawValue] } }

    /// Adds one to `counter` of the name server `server` (`ip:port`).
    public func addServer(_ server: String, _ counter: ServerCounter) {
        servers.withLock { table in
            table[server, default: [Int](repeating: 0, count: ServerCounter.allCases.count)][counter.rawValue] += 1
        }
    }

    /// The value of `counter` for `server` (0 if it was never asked).
    public func serverValue(_ server: String, _ counter: ServerCounter) -> Int {
        servers.withLock { $0[server]?[counter.rawValue] ?? 0 }
    }

    /// Every server's counters by name: `["127.0.0.1:53": ["sent": 3, …]]`.
    public func serverSnapshot() -> [String: [String: Int]] {
        let copy = servers.withLock { $0 }
        return copy.mapValues { values in
            Dictionary(uniqueKeysWithValues: ServerCounter.allCases.map { ($0.name, values[$0.rawValue]) })
        }
    }

    /// Every counter by name.
    public func snapshot() -> [String: Int] {
        let copy = values.withLock { $0 }
        var result: [String: Int] = [:]
        for counter in Counter.allCases { result[counter.name] = copy[counter.rawValue] }
        return result
    }
}
