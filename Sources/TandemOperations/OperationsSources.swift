import DNSResolver
import Synchronization
import TandemAsync
import TandemProxy

/// Where the operations endpoint reads its figures: the live counters of one server. Nothing here is
/// touched on the packet path; ``snapshot(uptimeSeconds:)`` runs at request (scrape) time.
public struct OperationsSources: Sendable {
    /// Readiness and state reported by `/health` and `/stats` (e.g. `(true, "running")`,
    /// `(false, "draining")`).
    public typealias Readiness = @Sendable () -> (ready: Bool, state: String)

    /// The proxy core's counters.
    public var counters: ProxyCounters
    /// Server plus client transactions in the tables now.
    public var transactionsInUse: @Sendable () -> Int
    /// The async engine (per-driver counters, offload pool).
    public var engine: AsyncEngine
    /// The script's `update_stat` counters.
    public var scriptCounters: @Sendable () -> [(name: String, value: Int)]
    /// Readiness hook.
    public var readiness: Readiness
    /// The proxy's resolver (counters, cache, blacklist).
    public var dns: DNSEnvironment?
    /// The TCP and TLS connections (nil without a stream socket).
    public var streams: StreamHub?
    /// Which stream transports have a listen socket (each gets its `/stats` section).
    public var streamTransports: (tcp: Bool, tls: Bool)

    public init(counters: ProxyCounters, transactionsInUse: @escaping @Sendable () -> Int, engine: AsyncEngine,
                scriptCounters: @escaping @Sendable () -> [(name: String, value: Int)],
                readiness: @escaping Readiness, dns: DNSEnvironment? = nil, streams: StreamHub? = nil,
                streamTransports: (tcp: Bool, tls: Bool) = (true, false)) {
        self.dns = dns
        self.streams = streams
        self.streamTransports = streamTransports
        self.counters = counters
        self.transactionsInUse = transactionsInUse
        self.engine = engine
        self.scriptCounters = scriptCounters
        self.readiness = readiness
    }

    /// Reads every figure now.
    public func snapshot(uptimeSeconds: Double) -> OperationsSnapshot {
        let c = counters
        let sip = OperationsSnapshot.SIP(
            datagramsReceived: c.datagramsReceived.load(ordering: .relaxed),
            parseErrors: c.parseErrors.load(ordering: .relaxed),
            requestsReceived: c.requestsReceived.load(ordering: .relaxed),
            responsesReceived: c.responsesReceived.load(ordering: .relaxed),
            retransmissionsAbsorbed: c.retransmissionsAbsorbed.load(ordering: .relaxed),
            strayResponses: c.strayResponses.load(ordering: .relaxed),
            localReplies: c.localReplies.load(ordering: .relaxed),
            sendErrors: c.sendErrors.load(ordering: .relaxed),
            serverTransactionsCreated: c.serverTransactionsCreated.load(ordering: .relaxed),
            clientTransactionsCreated: c.clientTransactionsCreated.load(ordering: .relaxed),
            transactionsInUse: transactionsInUse(),
            suspendedNow: c.suspendedNow.load(ordering: .relaxed),
            requestsByMethod: c.requestsByMethodSnapshot(),
            repliesReceivedByCode: Self.keyed(ProxyCounters.byCode(c.repliesReceivedByCode)),
            repliesSentByCode: Self.keyed(ProxyCounters.byCode(c.repliesSentByCode)),
            refusedByReason: c.refusedByReasonSnapshot(),
            icmpErrors: c.icmpErrors.load(ordering: .relaxed),
            memoryTrims: c.memoryTrims.load(ordering: .relaxed),
            heldReplyRetransmissionsAbsorbed: c.heldReplyRetransmissionsAbsorbed.load(ordering: .relaxed))
        let engineSnapshot = engine.snapshot()
        let lanes = engine.pool.laneDrivers
        let drivers = engineSnapshot.drivers.map { d in
            OperationsSnapshot.Driver(
                driver: d.driver, started: d.started, completed: d.completed, timedOut: d.timedOut,
                cancelled: d.cancelled, rejected: d.rejected, lateDropped: d.lateDropped, inFlight: d.inFlight,
                queued: d.queued, offloadBusy: d.offloadBusy,
                offloadLimit: lanes.contains(d.driver) ? engine.pool.limit(for: d.driver) : nil,
                latencyMs: OperationsSnapshot.Latency(boundsMs: AsyncDriverCounters.latencyBucketsMs,
                                                      counts: d.latencyHistogram))
        }
        let offload = OperationsSnapshot.Offload(
            threads: engineSnapshot.offloadThreads, threadsPeak: engineSnapshot.offloadThreadsPeak,
            threadsBusy: engineSnapshot.offloadThreadsBusy, threadLimit: engineSnapshot.offloadThreadLimit)
        var script: [String: Int] = [:]
        for (name, value) in scriptCounters() { script[name] = value }
        return OperationsSnapshot(state: readiness().state, uptimeSeconds: uptimeSeconds, sip: sip,
                                  async: OperationsSnapshot.Async(
                                      drivers: drivers, offload: offload,
                                      backends: engine.backends.all.map {
                                          OperationsSnapshot.Async.Backend(driver: $0.driver, backend: $0.address,
                                                                           up: !$0.isDown, losses: $0.lossCount,
                                                                           recoveries: $0.recoveryCount)
                                      }),
                                  script: OperationsSnapshot.Script(counters: script),
                                  dns: dns.map { dns in
                                      OperationsSnapshot.DNS(
                                          counters: dns.statistics.snapshot(), cacheEntries: dns.cache.count,
                                          blacklist: Dictionary(dns.blacklist.snapshot(), uniquingKeysWith: { a, _ in a }),
                                          servers: dns.statistics.serverSnapshot())
                                  },
                                  tcp: streamTransports.tcp ? streams?.snapshot(.tcp) : nil,
                                  tls: streamTransports.tls ? streams?.snapshot(.tls) : nil)
    }

    /// What `/health` reports now.
    public func health() -> OperationsHealth {
        let (ready, state) = readiness()
        return OperationsHealth(live: true, ready: ready, state: state)
    }

    private static func keyed(_ counts: [Int: Int]) -> [String: Int] {
        var result: [String: Int] = [:]
        for (code, value) in counts { result[String(code)] = value }
        return result
    }
}
