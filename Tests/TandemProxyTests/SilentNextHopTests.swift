import Foundation
import Glibc
import Reactor
import SIPCore
import SIPTransaction
import Synchronization
import Testing
@testable import TandemProxy
import TandemTestSupport

/// A value whose mutations tell whether they found it uniquely referenced, as a copy-on-write
/// collection does before deciding to copy its storage.
private struct CopyProbe: Sendable {
    final class Storage: Sendable {}
    var storage = Storage()

    /// True if this mutation would not have to copy.
    mutating func mutate() -> Bool { isKnownUniquelyReferenced(&storage) }
}

/// The index of branches that heard nothing from their destination (issue 14 item 1).
@Suite struct SilentBranchIndexTests {
    @Test("ShardedTable.modify hands the value over uniquely referenced: 10,000 changes, 0 copies")
    func modifyDoesNotCopy() {
        let table = ShardedTable<Int, CopyProbe>(shardCount: 4)
        table.set(1, CopyProbe())
        var copies = 0
        for _ in 0..<10_000 where !table.modify(1, { $0!.mutate() }) { copies += 1 }
        #expect(copies == 0)
        // Creating the value inside modify works too.
        let created = table.modify(2) { value -> Bool in
            value = CopyProbe()
            return value!.mutate()
        }
        #expect(created)
        #expect(table.count == 2)
    }

    @Test("A table that drops far below its peak gives its storage back (100,000 entries, then 10)")
    func shrinksAfterAFlood() {
        let table = ShardedTable<Int, Int>(shardCount: 4)
        for i in 0..<100_000 { table.set(i, i) }
        let peak = table.capacity
        #expect(peak >= 100_000)
        for i in 10..<100_000 { table.remove(i) }
        #expect(table.count == 10)
        #expect(table.capacity < 1_000, "capacity \(table.capacity) after a peak of \(peak)")
        for i in 0..<10 { #expect(table.lookup(i) == i) }
        // modify that removes shrinks too.
        for i in 0..<50_000 { table.set(i, i) }
        for i in 10..<50_000 { table.modify(i) { $0 = nil } }
        #expect(table.count == 10 && table.capacity < 1_000)
    }

    @Test("20,000 branches to one destination: remembered and forgotten exactly, the empty set removed")
    func oneBusyDestination() throws {
        let settings = ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: Ports.free())!], workers: 1)
        let core = ProxyCore(settings: settings, router: RelayRouter())
        let busy = SocketAddress(ip: "127.0.0.1", port: 9)!
        let other = SocketAddress(ip: "127.0.0.1", port: 10)!
        let ids = (0..<20_000).map { "z9hG4bK-silent-\($0)" }
        for id in ids { core.rememberSilentBranch(id, destination: busy) }
        core.rememberSilentBranch("z9hG4bK-other", destination: other)
        #expect(core.silentBranches.lookup(busy)?.count == 20_000)
        for id in ids.prefix(19_999) { core.forgetSilentBranch(id, destination: busy) }
        #expect(core.silentBranches.lookup(busy) == [ids.last!])
        core.forgetSilentBranch(ids.last!, destination: busy)
        #expect(core.silentBranches.lookup(busy) == nil, "an empty set is removed")
        #expect(core.silentBranches.lookup(other) == ["z9hG4bK-other"])
        #expect(core.silentBranches.count == 1)
    }

    @Test("branches of one destination sit in several slices; take() returns and removes all of them")
    func slicedPerDestination() throws {
        let settings = ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: Ports.free())!], workers: 1)
        let core = ProxyCore(settings: settings, router: RelayRouter())
        let busy = SocketAddress(ip: "127.0.0.1", port: 9)!
        let other = SocketAddress(ip: "127.0.0.1", port: 10)!
        let ids = (0..<256).map { "z9hG4bK-" + String($0, radix: 16) }
        for id in ids { core.rememberSilentBranch(id, destination: busy) }
        core.rememberSilentBranch("z9hG4bK-other", destination: other)
        #expect(core.silentBranches.count > 2, "one destination's branches spread over several sets")
        #expect(core.silentBranches.lookup(busy) == Set(ids))
        #expect(core.silentBranches.take(busy) == Set(ids))
        #expect(core.silentBranches.lookup(busy) == nil)
        #expect(core.silentBranches.take(busy).isEmpty)
        #expect(core.silentBranches.lookup(other) == ["z9hG4bK-other"])
        #expect(core.silentBranches.count == 1)
    }
}

/// Replies 200 to OPTIONS for the proxy itself (a liveness probe) and relays everything else.
struct ProbeAnsweringRouter: RequestRouter {
    let relay = RelayRouter()

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        if context.message.method == .options, let uri = try? context.message.requestURI()?.sipURI,
           context.core.isMyself(uri: uri) {
            _ = context.core.statelessReply(context, status: 200, reason: nil)
            return .finished
        }
        return relay.routeRequest(context)
    }
}

/// Sends `count` INVITEs at `rate` per second from one socket, each a new transaction to `uri`; the
/// replies are read and dropped so that the sender's buffer never fills.
final class InviteFlood: @unchecked Sendable {
    private final class StopFlag: Sendable { let stopped = Atomic<Bool>(false) }
    private let thread: Thread
    private let done = StopFlag()

    init(proxyPort: UInt16, uri: @escaping @Sendable (Int) -> String, count: Int, rate: Int) throws {
        let socket = try UDPSocket(bindingTo: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let port = try socket.localAddress().port
        let proxy = SocketAddress(ip: "127.0.0.1", port: proxyPort)!
        let finished = done
        thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let start = Date()
            for i in 0..<count {
                let target = uri(i)
                let bytes = Array("""
                    INVITE \(target) SIP/2.0\r
                    Via: SIP/2.0/UDP 127.0.0.1:\(port);branch=z9hG4bK-flood-\(port)-\(i)\r
                    From: <sip:flood@127.0.0.1>;tag=f\(i)\r
                    To: <\(target)>\r
                    Call-ID: flood-\(port)-\(i)\r
                    CSeq: 1 INVITE\r
                    Max-Forwards: 70\r
                    Contact: <sip:flood@127.0.0.1:\(port)>\r
                    Content-Length: 0\r
                    \r

                    """.utf8)
                _ = try? socket.send(bytes, to: proxy)
                while let result = try? socket.receive(into: &buffer), case .processed = result {}
                let due = start.addingTimeInterval(Double(i + 1) / Double(rate))
                let wait = due.timeIntervalSinceNow
                if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
            }
            // Keep reading replies (408s arrive after Timer B) until told to stop.
            while !finished.stopped.load(ordering: .relaxed) {
                while let result = try? socket.receive(into: &buffer), case .processed = result {}
                usleep(5_000)
            }
            socket.close()
        }
        thread.start()
    }

    func stop() { done.stopped.store(true, ordering: .relaxed) }
}

/// Probes the proxy with OPTIONS every `interval` seconds for `seconds`; returns each reply's latency
/// in milliseconds (nil for a probe that got no 200 within a second).
func probeOptions(proxyPort: UInt16, seconds: Double, interval: Double) throws -> [Double?] {
    let client = try SIPTestClient(proxyPort: proxyPort)
    var latencies: [Double?] = []
    let end = Date().addingTimeInterval(seconds)
    var i = 0
    while Date() < end {
        let sent = Date()
        try client.send(client.request("OPTIONS", uri: "sip:127.0.0.1:\(proxyPort)", branch: "z9hG4bK-probe-\(i)",
                                       callID: "probe-\(i)"))
        let reply = client.waitFor(timeout: 1) { $0 == 200 }
        latencies.append(reply.match == nil ? nil : Date().timeIntervalSince(sent) * 1000)
        i += 1
        let wait = interval - Date().timeIntervalSince(sent)
        if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
    }
    return latencies
}

@Suite(.serialized, .exclusiveLoad)
struct SilentNextHopTests {
    @Test("1,000 INVITEs at 250/s to a silent next hop: OPTIONS stay answered, every INVITE gets 408, tables empty after")
    func silentNextHopFlood() throws {
        // T1 = 50 ms: Timer B (and H) are 3.2 s, so the flood's transactions end within the test.
        let proxy = try ProxyHarness(router: ProbeAnsweringRouter(), timers: TimerSettings(t1: 50, t2: 400))
        let silent = try UDPSocket(bindingTo: SocketAddress(ip: "127.0.0.1", port: 0)!)  // bound, never read
        defer { silent.close() }
        let silentPort = try silent.localAddress().port
        let flood = try InviteFlood(proxyPort: proxy.port, uri: { _ in "sip:bob@127.0.0.1:\(silentPort)" },
                                    count: 1000, rate: 250)
        defer { flood.stop() }
        let latencies = try probeOptions(proxyPort: proxy.port, seconds: 5, interval: 0.05)
        let answered = latencies.compactMap { $0 }.sorted()
        #expect(answered.count == latencies.count, "\(latencies.count - answered.count) probes unanswered")
        let p99 = answered.isEmpty ? 0 : answered[min(answered.count - 1, answered.count * 99 / 100)]
        #expect(p99 < 250, "OPTIONS latency p99 \(p99) ms, max \(answered.last ?? 0) ms")

        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, proxy.core.transactionCount + proxy.core.clientTransactionCount > 0 {
            usleep(50_000)
        }
        #expect(proxy.core.transactionCount == 0)
        #expect(proxy.core.clientTransactionCount == 0)
        #expect(proxy.core.silentBranches.count == 0)
        #expect(proxy.core.counters.repliesSentByCode.value(at: 408 - 100) == 1000)
        #expect(proxy.core.counters.sendErrors.load(ordering: .relaxed) == 0)
    }
}

/// Reactor timers of branches that ended (issue 14 item 4, memory after a flood).
@Suite(.serialized)
struct StaleTimerTests {
    final class Counts: Sendable {
        let contexts = Mutex<[WorkerContext]>([])
        let timers = Atomic<Int>(0)
        let answered = Atomic<Int>(0)
    }

    @Test("20 INVITE branches that timed out leave no timer entry behind one step later (Timer C is stepped)")
    func noStaleTimerC() throws {
        let counts = Counts()
        let port = Ports.free()
        let settings = ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: port)!], workers: 2,
                                     timers: TimerSettings(t1: 50, t2: 400))   // steps of 64·T1 = 3.2 s
        let server = ProxyServer(core: ProxyCore(settings: settings, router: RelayRouter()),
                                 onWorkerStart: { context in counts.contexts.withLock { $0.append(context) } })
        try server.start()
        defer { server.stop() }
        let silent = try UDPSocket(bindingTo: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { silent.close() }
        let silentPort = try silent.localAddress().port
        let client = try SIPTestClient(proxyPort: port)
        for i in 0..<20 {
            try client.send(client.request("INVITE", uri: "sip:bob@127.0.0.1:\(silentPort)", branch: "z9hG4bK-tc-\(i)",
                                           callID: "tc-\(i)"))
        }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, server.core.counters.repliesSentByCode.value(at: 408 - 100) < 20
                || server.core.transactionCount + server.core.clientTransactionCount > 0 {
            usleep(50_000)
        }
        #expect(server.core.transactionCount + server.core.clientTransactionCount == 0)
        usleep(3_600_000)   // one step after the last transaction ended
        for context in counts.contexts.withLock({ $0 }) {
            _ = context.reactor.execute {
                counts.timers.add(context.reactor.timerCount, ordering: .relaxed)
                counts.answered.add(1, ordering: .relaxed)
            }
        }
        let readDeadline = Date().addingTimeInterval(2)
        while Date() < readDeadline, counts.answered.load(ordering: .relaxed) < 2 { usleep(10_000) }
        #expect(counts.answered.load(ordering: .relaxed) == 2)
        // Only worker 0's memory-trim sampler is left.
        #expect(counts.timers.load(ordering: .relaxed) == 1, "timer entries left on the workers")
    }

    @Test("Free heap pages are handed back once the transactions fell to a tenth of their peak, at most every 10 s, then twice more while quiet")
    func memoryTrimRule() {
        let core = ProxyCore(settings: ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: 9)!]),
                             router: RelayRouter())
        var trims = 0
        func sample(_ inUse: Int, at seconds: UInt64) -> Bool {
            core.sampleForTrim(inUse: inUse, now: seconds * 1000) { trims += 1 }
        }
        #expect(!sample(100, at: 10))
        #expect(!sample(20_000, at: 15))
        #expect(!sample(2_500, at: 20), "not down to a tenth of the peak")
        #expect(sample(2_000, at: 25))
        #expect(!sample(500, at: 30), "a drop under 1,000 from the new peak")
        #expect(!sample(9_000, at: 31))
        #expect(!sample(100, at: 34), "within 10 s of the last trim")
        #expect(sample(100, at: 36))
        #expect(trims == 2)
        #expect(core.counters.memoryTrims.load(ordering: .relaxed) == 2)
        // Two follow-up trims while the count stays at or below its level at the trim, 10 s apart.
        #expect(!sample(100, at: 40))
        #expect(sample(0, at: 46))
        #expect(!sample(0, at: 51))
        #expect(sample(0, at: 56))
        #expect(!sample(0, at: 66), "no more than two follow-ups")
        #expect(trims == 4)
        // New load cancels the follow-ups of a trim.
        #expect(!sample(30_000, at: 70))
        #expect(sample(1_000, at: 80))
        #expect(!sample(1_500, at: 90), "above the level of the trim: no follow-up")
        #expect(!sample(1_000, at: 100))
        #expect(trims == 5)
    }
}
