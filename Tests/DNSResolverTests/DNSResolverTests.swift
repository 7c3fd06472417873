import DNSResolver
import Glibc
import Reactor
import Synchronization
import Testing
import TandemTestSupport

let dnsServer = TestEnvironment.dnsServer
let dnsAvailable = dnsServer != nil

/// A reactor and a resolver with its own cache and counters, pointed at the dnsmasq test server.
final class DNSHarness {
    let reactor: Reactor
    let resolver: DNSResolver
    let statistics = DNSStatistics()
    let cache: DNSCache
    let clock: Box<UInt64>

    init(tryIPv6: Bool = false, server: String? = dnsServer, servers: [String]? = nil, retrSeconds: Int? = nil,
         retries: Int? = nil) throws {
        reactor = try Reactor()
        var settings = DNSSettings()
        settings.servers = try servers ?? [#require(server)]
        settings.tryIPv6 = tryIPv6
        settings.useSearchList = false
        settings.retransmissionSeconds = retrSeconds
        settings.retransmissions = retries
        settings.defaultNegativeTTL = 5
        cache = DNSCache(capacity: 100)
        let clock = Box(System.monotonicNanoseconds())
        self.clock = clock
        resolver = try #require(DNSResolver(reactor: reactor, settings: settings, cache: cache, statistics: statistics,
                                            now: { clock.value }))
    }

    func resolve(_ name: String, _ type: DNSRecordType) throws -> DNSAnswer {
        let result = Box<DNSAnswer?>(nil)
        resolver.resolve(DNSQuestion(name, type)) { result.value = $0 }
        try spin(reactor, limitMs: 5000) { result.value != nil }
        return try #require(result.value)
    }

    func locate(_ host: String, port: UInt16? = nil, random: @escaping (UInt32) -> UInt32 = SRVOrdering.systemRandom)
        throws -> SIPLocation {
        let result = Box<SIPLocation?>(nil)
        SIPServerLocator(resolver: resolver, random: random).locate(host: host, port: port) { result.value = $0 }
        try spin(reactor, limitMs: 5000) { result.value != nil }
        return try #require(result.value)
    }

    func count(_ counter: DNSStatistics.Counter) -> Int {
        statistics.value(counter)
    }

    /// Moves the cache clock on by `seconds`.
    func advance(seconds: UInt64) { clock.value += seconds * 1_000_000_000 }
}

@Suite(.enabled(if: dnsAvailable, "TANDEM_TEST_DNS_SERVER not set (start the dns test server)"), .serialized,
       .sharesDNSServer)
struct DNSResolverTests {
    @Test func aAndAAAARecordsWithTTL() throws {
        let h = try DNSHarness()
        #expect(try h.resolve("a.test.tandem", .a) == .records([.address(SocketAddress(ip: "127.0.0.1", port: 0)!)], ttl: 2))
        #expect(try h.resolve("v6.test.tandem", .aaaa) == .records([.address(SocketAddress(ip: "::1", port: 0)!)], ttl: 2))
        #expect(h.count(.queries) == 2)
        #expect(h.resolver.inFlightCount == 0)
    }

    @Test func naptrSRVAChainOrdersByPriorityAndWeight() throws {
        let h = try DNSHarness()
        // random(n) = 0 picks the first record of the running sum in each group.
        let location = try h.locate("naptr.test.tandem", random: { _ in 0 })
        guard case .targets(let targets) = location else { Issue.record("no targets: \(location)"); return }
        #expect(targets.count == 3)
        let ports = TestEnvironment.dnsSRVPorts
        #expect(Set(targets.prefix(2).map(\.port)) == Set(ports.prefix(2)))
        #expect(targets.last == SocketAddress(ip: "127.0.0.1", port: ports[2]), "priority 20 last")
        // NAPTR, SRV, and A of t1, t2, t3.
        #expect(h.count(.queries) == 5)
        // A second locate is served from the cache, inside the call.
        let again = Box<SIPLocation?>(nil)
        SIPServerLocator(resolver: h.resolver).locate(host: "naptr.test.tandem", port: nil) { again.value = $0 }
        #expect(again.value != nil)
        #expect(h.count(.queries) == 5)
    }

    @Test func explicitPortAndNumericHostsSkipSRV() throws {
        let h = try DNSHarness()
        #expect(try h.locate("srv.test.tandem", port: 5099) == .notFound, "no A record for the SRV owner's host")
        #expect(try h.locate("a.test.tandem", port: 5099) == .targets([SocketAddress(ip: "127.0.0.1", port: 5099)!]))
        #expect(h.count(.queries) == 2, "A only")
        #expect(try h.locate("192.0.2.7") == .targets([SocketAddress(ip: "192.0.2.7", port: 5060)!]))
        #expect(try h.locate("[::1]", port: 5062) == .targets([SocketAddress(ip: "::1", port: 5062)!]))
        #expect(h.count(.queries) == 2)
    }

    @Test func noNAPTRNoSRVFallsBackToAWithDefaultPort() throws {
        let h = try DNSHarness(tryIPv6: true)
        #expect(try h.locate("v6.test.tandem") == .targets([SocketAddress(ip: "127.0.0.2", port: 5060)!,
                                                            SocketAddress(ip: "::1", port: 5060)!]))
    }

    @Test func srvWeightsDistribution() throws {
        let h = try DNSHarness()
        var first: [UInt16: Int] = [:]
        var generator = SplitMix64(state: 42)
        for _ in 0..<2000 {
            guard case .targets(let targets) = try h.locate("naptr.test.tandem",
                                                            random: { UInt32.random(in: 0...$0, using: &generator) })
            else { Issue.record("locate failed"); return }
            first[targets[0].port, default: 0] += 1
        }
        // Weights 1 and 3 at priority 10: t2 first about 3 times in 4; t3 (priority 20) never first.
        let ports = TestEnvironment.dnsSRVPorts
        let share = Double(first[ports[1], default: 0]) / 2000
        #expect(share > 0.70 && share < 0.80, "t2 first in \(share)")
        #expect(first[ports[2]] == nil)
        #expect(h.count(.queries) == 5, "all but the first from the cache")
    }

    @Test func ttlExpiryAsksAgain() throws {
        let h = try DNSHarness()
        _ = try h.resolve("a.test.tandem", .a)
        _ = try h.resolve("a.test.tandem", .a)
        #expect(h.count(.queries) == 1)
        #expect(h.count(.cacheHits) == 1)
        h.advance(seconds: 3)  // TTL 2
        _ = try h.resolve("a.test.tandem", .a)
        #expect(h.count(.queries) == 2)
    }

    @Test func nxdomainIsCachedThenRetried() throws {
        let h = try DNSHarness()
        guard case .negative(let nx, let ttl) = try h.resolve("missing.test.tandem", .a) else {
            Issue.record("not negative"); return
        }
        #expect(nx)
        #expect(ttl <= 5)
        #expect(try h.resolve("missing.test.tandem", .a) == .negative(nxdomain: true, ttl: ttl))
        #expect(h.count(.queries) == 1)
        #expect(h.count(.negativeHits) == 1)
        #expect(try h.locate("missing.test.tandem", port: 5060) == .notFound)
        h.advance(seconds: UInt64(ttl) + 1)
        _ = try h.resolve("missing.test.tandem", .a)
        #expect(h.count(.queries) == 2)
    }

    @Test("RFC 2308: an NXDOMAIN with an SOA is cached for min(SOA TTL, SOA MINIMUM), not the default")
    func soaNegativeTTL() throws {
        let h = try DNSHarness(server: try #require(TestEnvironment.dnsAuthServer))
        // The authoritative dnsmasq's SOA: TTL 7, MINIMUM 7; the harness's no-SOA default is 5.
        #expect(try h.resolve("missing.soa.tandem", .a) == .negative(nxdomain: true, ttl: 7))
        #expect(try h.resolve("a.soa.tandem", .a) == .records([.address(SocketAddress(ip: "127.0.0.1", port: 0)!)], ttl: 7))
        h.advance(seconds: 6)
        _ = try h.resolve("missing.soa.tandem", .a)
        #expect(h.count(.queries) == 2, "still cached after 6 s (the no-SOA default would have expired it)")
        #expect(h.count(.negativeHits) == 1)
        h.advance(seconds: 2)
        _ = try h.resolve("missing.soa.tandem", .a)
        #expect(h.count(.queries) == 3, "asked again after the SOA's 7 s")
    }

    @Test("Several dns_servers: the first silent or closed, the second answers")
    func secondServerAnswers() throws {
        let sink = try UDPSocket(family: .ipv4)  // bound, never read: queries vanish
        try sink.bind(to: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let silent = "127.0.0.1:\(try sink.localAddress().port)"
        let h = try DNSHarness(servers: [silent, try #require(dnsServer)], retrSeconds: 1, retries: 1)
        var start = nowMs()
        #expect(try h.resolve("a.test.tandem", .a) == .records([.address(SocketAddress(ip: "127.0.0.1", port: 0)!)], ttl: 2))
        #expect(nowMs() - start < 2500, "one 1 s wait on the silent server, then the second")
        // A closed port answers with ICMP: c-ares moves on at once.
        let closed = try UDPSocket(family: .ipv4)
        try closed.bind(to: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let closedServer = "127.0.0.1:\(try closed.localAddress().port)"
        closed.close()
        let g = try DNSHarness(servers: [closedServer, try #require(dnsServer)], retrSeconds: 1, retries: 1)
        start = nowMs()
        #expect(try g.resolve("t1.test.tandem", .a) == .records([.address(SocketAddress(ip: "127.0.0.1", port: 0)!)], ttl: 2))
        #expect(nowMs() - start < 900, "the closed port costs no timeout")
        #expect(h.count(.timeouts) == 0 && g.count(.timeouts) == 0)
        // Per-server counters (counted on the channel's sockets): which server failed, and how.
        let alive = try #require(dnsServer)
        #expect(h.statistics.serverValue(silent, .sent) == 1)
        #expect(h.statistics.serverValue(silent, .answered) == 0)
        #expect(h.statistics.serverValue(alive, .sent) == 1 && h.statistics.serverValue(alive, .answered) == 1)
        #expect(g.statistics.serverValue(closedServer, .sent) == 1)
        #expect(g.statistics.serverValue(closedServer, .unreachable) == 1)
        #expect(g.statistics.serverValue(alive, .answered) == 1)
        #expect(g.statistics.serverSnapshot()[closedServer] == ["sent": 1, "answered": 0, "failed": 0, "unreachable": 1])
    }

    @Test("A REFUSED reply counts as that server's failure (the authoritative server refuses other zones)")
    func refusedCountsPerServer() throws {
        let auth = try #require(TestEnvironment.dnsAuthServer)
        let h = try DNSHarness(server: auth, retrSeconds: 1, retries: 1)
        #expect(try h.resolve("a.test.tandem", .a) == .failure(.serverError))
        #expect(h.count(.serverErrors) == 1)
        #expect(h.statistics.serverValue(auth, .failed) == 1)
        #expect(h.statistics.serverValue(auth, .answered) == 0)
    }

    @Test func manyWaitersOnOneNameMakeOneQuery() throws {
        let h = try DNSHarness()
        let done = Box(0)
        let n = 10_000
        for _ in 0..<n {
            h.resolver.resolve(DNSQuestion("t1.test.tandem", .a)) { if case .records = $0 { done.value += 1 } }
        }
        try spin(h.reactor, limitMs: 5000) { done.value == n }
        #expect(done.value == n)
        #expect(h.count(.queries) == 1)
        #expect(h.count(.joined) == n - 1)
    }

    /// Several workers (each a thread with its own reactor and resolver) sharing one cache: every
    /// request is made before any worker runs its loop, so the first miss owns the query and the other
    /// workers join it through the cache; the answer comes back to each worker on its own thread.
    @Test func manyWaitersOnSeveralWorkersMakeOneQuery() throws {
        var settings = DNSSettings()
        settings.servers = [try #require(dnsServer)]
        settings.useSearchList = false
        let shared = settings
        let cache = DNSCache(capacity: 100)
        let statistics = DNSStatistics()
        let workers = 4, perWorker = 2_500
        let issued = Shared(0)
        let done = Shared([Int](repeating: 0, count: workers))
        let sameThread = Shared(true)
        var threads: [WorkerThread] = []
        for w in 0..<workers {
            threads.append(try WorkerThread(name: "dns-test-\(w)") {
                guard let reactor = try? Reactor(),
                      let resolver = DNSResolver(reactor: reactor, settings: shared, cache: cache,
                                                 statistics: statistics) else { return }
                let thread = pthread_self()
                let count = Box(0)
                for _ in 0..<perWorker {
                    resolver.resolve(DNSQuestion("t1.test.tandem", .a)) { answer in
                        if pthread_equal(thread, pthread_self()) == 0 { sameThread.mutate { $0 = false } }
                        if case .records = answer { count.value += 1 }
                    }
                }
                issued.mutate { $0 += 1 }
                let start = nowMs()
                while issued.value < workers, nowMs() - start < 5000 { usleep(1000) }
                try? spin(reactor, limitMs: 5000) { count.value == perWorker }
                done.mutate { $0[w] = count.value }
                resolver.close()
            })
        }
        for thread in threads { thread.join() }
        #expect(done.value == [Int](repeating: perWorker, count: workers))
        #expect(sameThread.value, "every completion runs on its own worker")
        #expect(statistics.value(.queries) == 1)
        #expect(statistics.value(.joined) == workers * perWorker - 1)
        #expect(statistics.value(.cacheHits) == 0)
        #expect(cache.inFlightCount == 0)
    }

    @Test func deadServerTimesOutWithoutBlocking() throws {
        // A bound UDP socket nobody reads: queries vanish.
        let sink = try UDPSocket(family: .ipv4)
        try sink.bind(to: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let h = try DNSHarness(server: "127.0.0.1:\(try sink.localAddress().port)", retrSeconds: 1, retries: 1)
        let start = nowMs()
        let result = Box<DNSAnswer?>(nil)
        h.resolver.resolve(DNSQuestion("a.test.tandem", .a)) { result.value = $0 }
        #expect(result.value == nil, "resolve returned before the answer")
        try spin(h.reactor, limitMs: 5000) { result.value != nil }
        #expect(result.value == .failure(.timeout))
        #expect(nowMs() - start < 2500)
        #expect(h.count(.timeouts) == 1)
        #expect(h.cache.count == 0, "failures are not cached")
    }

    @Test("A start-up lookup (blocking c-ares) works when the process holds descriptors above FD_SETSIZE")
    func blockingLookupAboveFDSetSize() throws {
        // A proxy holding thousands of TCP connections: the lookup's own socket lands above 1024, where an
        // fd_set cannot reach (glibc aborted the whole process there).
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        while (held.last ?? 0) < Int32(FD_SETSIZE) + 16 {
            let fd = dup(0)
            try #require(fd >= 0, "dup: errno \(errno)")
            held.append(fd)
        }
        var settings = DNSSettings()
        settings.servers = [try #require(dnsServer)]
        settings.useSearchList = false
        let found = HostAddressLookup.addresses(of: "a.test.tandem", settings: settings, hosts: [:])
        #expect(found == ["127.0.0.1"])
        let missing = HostAddressLookup.addresses(of: "missing.test.tandem", settings: settings, hosts: [:])
        #expect(missing.isEmpty)
    }
}

/// Pure parts, no server.
struct SRVOrderingTests {
    @Test func zeroWeightsAndPriorities() {
        let records = [SRVRecord(priority: 20, weight: 0, port: 3, target: "c"),
                       SRVRecord(priority: 10, weight: 0, port: 1, target: "a"),
                       SRVRecord(priority: 10, weight: 5, port: 2, target: "b")]
        // The weighted record goes first whatever the draw; the zero-weight one after it; priority 20 last.
        #expect(SRVOrdering.order(records, random: { _ in 0 }).map(\.port) == [2, 1, 3])
        #expect(SRVOrdering.order(records, random: { $0 }).map(\.port) == [2, 1, 3])
        let two = [SRVRecord(priority: 1, weight: 1, port: 1, target: "a"), SRVRecord(priority: 1, weight: 3, port: 2, target: "b")]
        #expect(SRVOrdering.order(two, random: { _ in 0 }).map(\.port) == [1, 2], "draw 1 of 1...4")
        #expect(SRVOrdering.order(two, random: { _ in 1 }).map(\.port) == [2, 1], "draw 2 of 1...4")
    }

    @Test func cacheBoundDropsEntries() {
        let cache = DNSCache(capacity: 16)
        for i in 0..<40 { cache.store(DNSQuestion("h\(i)", .a), .negative(nxdomain: true, ttl: 10), now: 0) }
        #expect(cache.count <= 16)
        #expect(cache.lookup(DNSQuestion("h39", .a), now: 1) != nil)
        #expect(cache.lookup(DNSQuestion("h39", .a), now: 11_000_000_000) == nil)
    }
}

/// The cache's in-flight entries (no server).
struct DNSCacheInFlightTests {
    @Test func ownerJoinersAndCompletion() {
        let cache = DNSCache(capacity: 100, inFlightLimitSeconds: 10)
        let q = DNSQuestion("x.test", .a)
        let got = Shared(0)
        guard case .owner(let token) = cache.begin(q, now: 0, joiner: { _ in got.mutate { $0 += 100 } }) else {
            Issue.record("first miss owns the query"); return
        }
        for _ in 0..<3 {
            guard case .joined = cache.begin(q, now: 1, joiner: { _ in got.mutate { $0 += 1 } }) else {
                Issue.record("later misses join"); return
            }
        }
        #expect(cache.inFlightCount == 1)
        let answer = DNSAnswer.records([.address(SocketAddress(ip: "127.0.0.1", port: 0)!)], ttl: 5)
        let joiners = cache.complete(q, token: token, answer: answer, now: 2)
        #expect(joiners.count == 3, "the owner's own joiner is not kept")
        for joiner in joiners { joiner(answer) }
        #expect(got.value == 3)
        #expect(cache.inFlightCount == 0)
        guard case .cached(let cached) = cache.begin(q, now: 3, joiner: { _ in }) else {
            Issue.record("the answer is cached"); return
        }
        #expect(cached == answer)
    }

    @Test func staleQueryIsTakenOverAndFailuresAreNotCached() {
        let cache = DNSCache(capacity: 100, inFlightLimitSeconds: 1)
        let q = DNSQuestion("y.test", .a)
        guard case .owner(let first) = cache.begin(q, now: 0, joiner: { _ in }) else { Issue.record("owner"); return }
        guard case .joined = cache.begin(q, now: 10, joiner: { _ in }) else { Issue.record("joined"); return }
        guard case .owner(let second) = cache.begin(q, now: 2_000_000_000, joiner: { _ in }) else {
            Issue.record("a stale query is taken over"); return
        }
        #expect(first != second)
        #expect(cache.complete(q, token: first, answer: .failure(.timeout), now: 3).isEmpty, "the old owner no longer owns it")
        #expect(cache.inFlightCount == 1)
        #expect(cache.complete(q, token: second, answer: .failure(.timeout), now: 4).count == 1, "the joiner stayed")
        #expect(cache.count == 0)
        guard case .owner = cache.begin(q, now: 5, joiner: { _ in }) else { Issue.record("failure not cached"); return }
    }
}

/// Runs a suite during a shared turn at the dnsmasq test server (``DNSServerTurns``): never while a
/// test of another target freezes it.
struct SharesDNSServer: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        await DNSServerTurns.shared.acquire(exclusive: false)
        do {
            try await function()
        } catch {
            await DNSServerTurns.shared.release(exclusive: false)
            throw error
        }
        await DNSServerTurns.shared.release(exclusive: false)
    }
}

extension Trait where Self == SharesDNSServer {
    /// Only queries the dnsmasq test server: runs beside other such suites, not while one freezes it.
    static var sharesDNSServer: SharesDNSServer { SharesDNSServer() }
}
