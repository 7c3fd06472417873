/// Every operations figure of one server at one instant: what `/stats` returns as JSON (snake_case
/// keys) and what the metrics publisher records into swift-metrics.
///
/// Shape:
/// ```json
/// {"state":"running","uptime_seconds":1.5,
///  "sip":{"datagrams_received":0,"parse_errors":0,"requests_received":0,"responses_received":0,
///         "retransmissions_absorbed":0,"stray_responses":0,"local_replies":0,"send_errors":0,
///         "server_transactions_created":0,"client_transactions_created":0,"transactions_in_use":0,
///         "suspended_now":0,"requests_by_method":{"INVITE":0},"replies_received_by_code":{"200":0},
///         "replies_sent_by_code":{"200":0}},
///  "async":{"drivers":[{"driver":"sleep","started":0,"completed":0,"timed_out":0,"cancelled":0,
///           "rejected":0,"late_dropped":0,"in_flight":0,"queued":0,"offload_busy":0,"offload_limit":null,
///           "latency_ms":{"buckets":[{"le":"1","count":0},{"le":"+Inf","count":0}],"count":0}}],
///           "offload":{"threads":0,"threads_peak":0,"threads_busy":0,"thread_limit":0}},
///  "script":{"counters":{"name":0}}}
/// ```
///
/// Per driver, `started = completed + timed_out + cancelled + rejected + in_flight` holds exactly once
/// no job starts or resolves; under load a snapshot may show `started` ahead of the sum (never behind):
/// see ``Driver/isBalanced`` and ``Driver/outcomesAndInFlight``.
public struct OperationsSnapshot: Codable, Sendable, Equatable {
    /// `"running"`, or whatever the server's readiness hook reports (e.g. `"draining"`).
    public var state: String
    /// Seconds since the operations endpoint started.
    public var uptimeSeconds: Double
    /// Proxy core counters.
    public var sip: SIP
    /// Async engine counters.
    public var async: Async
    /// The routing script's `update_stat` counters.
    public var script: Script
    /// Resolver counters and the DNS blacklist (absent when the server has no resolver figures).
    public var dns: DNS?
    /// TCP figures (absent without a TCP socket): `open` (gauge), `accepted`, `connected`, `refused`,
    /// `connect_failures`, `framing_errors`, `message_timeouts`, `idle_closed`, `pings`,
    /// `outbound_overflows`, `bytes_in`, `bytes_out` (totals).
    public var tcp: [String: Int]?
    /// TLS figures (absent without a TLS socket): those of ``tcp`` for TLS connections, plus
    /// `handshakes`, `handshake_failures`, `handshake_timeouts`, `certificate_failures` (totals).
    public var tls: [String: Int]?

    public init(state: String, uptimeSeconds: Double, sip: SIP, async: Async, script: Script, dns: DNS? = nil,
                tcp: [String: Int]? = nil, tls: [String: Int]? = nil) {
        self.tcp = tcp
        self.tls = tls
        self.state = state
        self.uptimeSeconds = uptimeSeconds
        self.sip = sip
        self.async = async
        self.script = script
        self.dns = dns
    }

    /// The resolver's counters (`queries`, `cache_hits`, `negative_hits`, `cache_misses`, `joined`,
    /// `timeouts`, `server_errors`, `failovers`), cache size, and the blacklisted next hops with the
    /// seconds left.
    /// `servers`: per name server (`ip:port`), `sent`, `answered`, `failed` (SERVFAIL/NOTIMP/REFUSED),
    /// `unreachable` (ICMP) UDP queries.
    public struct DNS: Codable, Sendable, Equatable {
        public var counters: [String: Int]
        public var cacheEntries: Int
        public var blacklist: [String: Int]
        public var servers: [String: [String: Int]]?

        public init(counters: [String: Int], cacheEntries: Int, blacklist: [String: Int],
                    servers: [String: [String: Int]]? = nil) {
            self.counters = counters
            self.cacheEntries = cacheEntries
            self.blacklist = blacklist
            self.servers = servers
        }

        enum CodingKeys: String, CodingKey {
            case counters, blacklist, servers
            case cacheEntries = "cache_entries"
        }
    }

    enum CodingKeys: String, CodingKey {
        case state, sip, async, script, dns, tcp, tls
        case uptimeSeconds = "uptime_seconds"
    }

    /// SIP figures of the proxy core (totals since start, plus the gauges `transactions_in_use` and
    /// `suspended_now`).
    public struct SIP: Codable, Sendable, Equatable {
        public var datagramsReceived: Int
        public var parseErrors: Int
        public var requestsReceived: Int
        public var responsesReceived: Int
        public var retransmissionsAbsorbed: Int
        /// Retransmissions of a reply held by `async()` in `onreply_route`, absorbed without running the
        /// reply routes again.
        public var heldReplyRetransmissionsAbsorbed: Int
        public var strayResponses: Int
        public var localReplies: Int
        public var sendErrors: Int
        public var serverTransactionsCreated: Int
        public var clientTransactionsCreated: Int
        /// Server plus client transactions in the tables now.
        public var transactionsInUse: Int
        /// Transactions suspended on an async operation now.
        public var suspendedNow: Int
        /// Requests received by method (`"other"` for extension methods); methods never seen are absent.
        public var requestsByMethod: [String: Int]
        /// Replies received from downstream, by status code.
        public var repliesReceivedByCode: [String: Int]
        /// Replies sent upstream (relayed and local, not retransmissions), by status code.
        public var repliesSentByCode: [String: Int]
        /// Requests and replies the proxy refused or dropped on purpose, by reason (`host_name`: a next
        /// hop or reply address named a host from the packet, which is never looked up on a worker;
        /// `overload`: 503 for a new INVITE past `max_transactions`/`max_suspended`;
        /// `unsupported_scheme`: 416; `unsupported_extension`: 420 for a `Proxy-Require`).
        public var refusedByReason: [String: Int]
        /// ICMP errors (port/host unreachable) read from the SIP sockets' error queues.
        public var icmpErrors: Int
        /// Times free heap memory was handed back to the kernel after the transactions in use fell.
        public var memoryTrims: Int

        public init(datagramsReceived: Int, parseErrors: Int, requestsReceived: Int, responsesReceived: Int,
                    retransmissionsAbsorbed: Int, strayResponses: Int, localReplies: Int, sendErrors: Int,
                    serverTransactionsCreated: Int, clientTransactionsCreated: Int, transactionsInUse: Int,
                    suspendedNow: Int, requestsByMethod: [String: Int], repliesReceivedByCode: [String: Int],
                    repliesSentByCode: [String: Int], refusedByReason: [String: Int] = [:], icmpErrors: Int = 0,
                    memoryTrims: Int = 0, heldReplyRetransmissionsAbsorbed: Int = 0) {
            self.datagramsReceived = datagramsReceived
            self.parseErrors = parseErrors
            self.requestsReceived = requestsReceived
            self.responsesReceived = responsesReceived
            self.retransmissionsAbsorbed = retransmissionsAbsorbed
            self.heldReplyRetransmissionsAbsorbed = heldReplyRetransmissionsAbsorbed
            self.strayResponses = strayResponses
            self.localReplies = localReplies
            self.sendErrors = sendErrors
            self.serverTransactionsCreated = serverTransactionsCreated
            self.clientTransactionsCreated = clientTransactionsCreated
            self.transactionsInUse = transactionsInUse
            self.suspendedNow = suspendedNow
            self.requestsByMethod = requestsByMethod
            self.repliesReceivedByCode = repliesReceivedByCode
            self.repliesSentByCode = repliesSentByCode
            self.refusedByReason = refusedByReason
            self.icmpErrors = icmpErrors
            self.memoryTrims = memoryTrims
        }

        enum CodingKeys: String, CodingKey {
            case datagramsReceived = "datagrams_received"
            case parseErrors = "parse_errors"
            case requestsReceived = "requests_received"
            case responsesReceived = "responses_received"
            case retransmissionsAbsorbed = "retransmissions_absorbed"
            case heldReplyRetransmissionsAbsorbed = "held_reply_retransmissions_absorbed"
            case strayResponses = "stray_responses"
            case localReplies = "local_replies"
            case sendErrors = "send_errors"
            case serverTransactionsCreated = "server_transactions_created"
            case clientTransactionsCreated = "client_transactions_created"
            case transactionsInUse = "transactions_in_use"
            case suspendedNow = "suspended_now"
            case requestsByMethod = "requests_by_method"
            case repliesReceivedByCode = "replies_received_by_code"
            case repliesSentByCode = "replies_sent_by_code"
            case refusedByReason = "refused_by_reason"
            case icmpErrors = "icmp_errors"
            case memoryTrims = "memory_trims"
        }
    }

    /// Async engine figures: one entry per driver used so far, and the offload pool.
    public struct Async: Codable, Sendable, Equatable {
        public var drivers: [Driver]
        public var offload: Offload
        /// The backends the drivers reached or failed to reach: losses and recoveries so far.
        public var backends: [Backend]

        public init(drivers: [Driver], offload: Offload, backends: [Backend] = []) {
            self.drivers = drivers
            self.offload = offload
            self.backends = backends
        }

        /// One backend's reachability (`{"driver":"postgres","backend":"127.0.0.1:5432/db","up":true,
        /// "losses":1,"recoveries":1}`).
        public struct Backend: Codable, Sendable, Equatable {
            public var driver: String
            public var backend: String
            public var up: Bool
            public var losses: Int
            public var recoveries: Int

            public init(driver: String, backend: String, up: Bool, losses: Int, recoveries: Int) {
                self.driver = driver
                self.backend = backend
                self.up = up
                self.losses = losses
                self.recoveries = recoveries
            }
        }

        /// The entry of driver `name`.
        public func driver(_ name: String) -> Driver? { drivers.first { $0.driver == name } }
    }

    /// One async driver's counters (`in_flight`, `queued`, `offload_busy` are gauges).
    public struct Driver: Codable, Sendable, Equatable {
        public var driver: String
        public var started: Int
        public var completed: Int
        public var timedOut: Int
        public var cancelled: Int
        public var rejected: Int
        public var lateDropped: Int
        public var inFlight: Int
        public var queued: Int
        public var offloadBusy: Int
        /// The driver's offload lane limit, `null` while the driver has not used the offload pool.
        public var offloadLimit: Int?
        /// Latency of completed jobs.
        public var latencyMs: Latency

        /// `completed + timed_out + cancelled + rejected + in_flight`: equals `started` once the
        /// load has stopped, and never exceeds it.
        public var outcomesAndInFlight: Int { completed + timedOut + cancelled + rejected + inFlight }
        /// True if `started == completed + timed_out + cancelled + rejected + in_flight`.
        public var isBalanced: Bool { started == outcomesAndInFlight }

        enum CodingKeys: String, CodingKey {
            case driver, started, completed, cancelled, rejected, queued
            case timedOut = "timed_out"
            case lateDropped = "late_dropped"
            case inFlight = "in_flight"
            case offloadBusy = "offload_busy"
            case offloadLimit = "offload_limit"
            case latencyMs = "latency_ms"
        }

        public init(driver: String, started: Int, completed: Int, timedOut: Int, cancelled: Int, rejected: Int,
                    lateDropped: Int, inFlight: Int, queued: Int, offloadBusy: Int, offloadLimit: Int?,
                    latencyMs: Latency) {
            self.driver = driver
            self.started = started
            self.completed = completed
            self.timedOut = timedOut
            self.cancelled = cancelled
            self.rejected = rejected
            self.lateDropped = lateDropped
            self.inFlight = inFlight
            self.queued = queued
            self.offloadBusy = offloadBusy
            self.offloadLimit = offloadLimit
            self.latencyMs = latencyMs
        }

        /// Writes `offload_limit` as `null` when unknown (the synthesized form would drop the key).
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(driver, forKey: .driver)
            try c.encode(started, forKey: .started)
            try c.encode(completed, forKey: .completed)
            try c.encode(timedOut, forKey: .timedOut)
            try c.encode(cancelled, forKey: .cancelled)
            try c.encode(rejected, forKey: .rejected)
            try c.encode(lateDropped, forKey: .lateDropped)
            try c.encode(inFlight, forKey: .inFlight)
            try c.encode(queued, forKey: .queued)
            try c.encode(offloadBusy, forKey: .offloadBusy)
            try c.encode(offloadLimit, forKey: .offloadLimit)
            try c.encode(latencyMs, forKey: .latencyMs)
        }
    }

    /// A latency histogram in milliseconds. Bucket counts are cumulative, as in Prometheus: each
    /// counts the jobs that took at most `le` ms; the last bucket (`"+Inf"`) equals `count`.
    public struct Latency: Codable, Sendable, Equatable {
        public var buckets: [Bucket]
        public var count: Int

        /// Cumulative buckets from per-bucket counts over `boundsMs` (plus one overflow count).
        public init(boundsMs: [UInt64], counts: [Int]) {
            var running = 0
            var buckets: [Bucket] = []
            buckets.reserveCapacity(boundsMs.count + 1)
            for (i, bound) in boundsMs.enumerated() {
                running += i < counts.count ? counts[i] : 0
                buckets.append(Bucket(le: String(bound), count: running))
            }
            if counts.count > boundsMs.count { running += counts[boundsMs.count...].reduce(0, +) }
            buckets.append(Bucket(le: "+Inf", count: running))
            self.buckets = buckets
            self.count = running
        }
    }

    /// One cumulative histogram bucket.
    public struct Bucket: Codable, Sendable, Equatable {
        /// Upper bound in milliseconds, or `"+Inf"`.
        public var le: String
        public var count: Int

        public init(le: String, count: Int) {
            self.le = le
            self.count = count
        }
    }

    /// The offload pool's thread figures.
    public struct Offload: Codable, Sendable, Equatable {
        /// Dispatch threads the offload lanes hold now (lane slots whose work item is in Dispatch).
        public var threads: Int
        /// Highest ``threads`` since start.
        public var threadsPeak: Int
        /// Offload jobs running now.
        public var threadsBusy: Int
        /// Sum of the limits of the lanes in use (the bound on threads).
        public var threadLimit: Int

        public init(threads: Int, threadsPeak: Int, threadsBusy: Int, threadLimit: Int) {
            self.threads = threads
            self.threadsPeak = threadsPeak
            self.threadsBusy = threadsBusy
            self.threadLimit = threadLimit
        }

        enum CodingKeys: String, CodingKey {
            case threads
            case threadsPeak = "threads_peak"
            case threadsBusy = "threads_busy"
            case threadLimit = "thread_limit"
        }
    }

    /// The script's `update_stat` counters by name.
    public struct Script: Codable, Sendable, Equatable {
        public var counters: [String: Int]

        public init(counters: [String: Int]) {
            self.counters = counters
        }
    }
}

/// What `/health` returns: `{"live":true,"ready":true,"state":"running"}`.
public struct OperationsHealth: Codable, Sendable, Equatable {
    /// Always true while the endpoint answers.
    public var live: Bool
    /// Whether the server takes new work (false while draining).
    public var ready: Bool
    /// `"running"`, `"draining"`, …
    public var state: String

    public init(live: Bool = true, ready: Bool, state: String) {
        self.live = live
        self.ready = ready
        self.state = state
    }
}
