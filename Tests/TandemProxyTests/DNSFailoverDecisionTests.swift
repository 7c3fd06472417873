import DNSResolver
import Reactor
import SIPCore
import SIPTransaction
import TandemTestSupport
import Testing
@testable import TandemProxy

/// Which failed branches fail over to the next target of their DNS set (RFC 3263 §4.3, decided as
/// OpenSIPS 3.6's tm does): a timeout with no reply at all and a 503 do; a branch that got a provisional
/// and then timed out (Timer C, CANCEL) and a 408 sent by the next hop do not. In memory on a manual
/// clock: the name resolves from the environment's hosts table (two addresses), so no DNS server runs.
@Suite struct DNSFailoverDecisionTests {
    let uac = SIPPeer(port: 5070)
    let first = SIPPeer(ip: "127.0.0.1", port: 5080)
    let second = SIPPeer(ip: "127.0.0.2", port: 5080)
    let uri = "sip:bob@pair.failover.test:5080"

    /// A relay whose next hop `pair.failover.test` has two addresses; Timer C is 5 s (fr_inv_timeout).
    func proxy() throws -> InMemoryProxy {
        let timers = TimerSettings(timerC: 5_000)
        var settings = ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: 5060)!], workers: 1, timers: timers)
        settings.dns = DNSEnvironment(settings: DNSSettings(),
                                      hosts: ["pair.failover.test": [first.address, second.address]])
        return try InMemoryProxy(core: ProxyCore(settings: settings, router: RelayRouter()))
    }

    /// Sends the INVITE; returns it as the first target received it (after the 100 to the caller).
    func invite(_ proxy: InMemoryProxy, _ id: String) throws -> SIPMessage {
        proxy.receive(uac.request("INVITE", uri: uri, branch: "z9hG4bK-\(id)", callID: id), from: uac.address)
        let sent = proxy.sent()
        #expect(sent.map(\.status) == [100, nil])
        let forwarded = try #require(sent.last)
        #expect(forwarded.destination == first.address)
        #expect(forwarded.method == .invite)
        return forwarded.message
    }

    func failovers(_ proxy: InMemoryProxy) -> Int { proxy.core.settings.dns.statistics.value(.failovers) }
    func blacklisted(_ proxy: InMemoryProxy) -> Int { proxy.core.settings.dns.blacklist.snapshot().count }

    @Test("The decision table: 503 (received or local), a local 408 without any reply; nothing else")
    func decisionTable() {
        #expect(ProxyCore.isFailoverCase(status: 503, generatedLocally: false, receivedReply: true))
        #expect(ProxyCore.isFailoverCase(status: 503, generatedLocally: true, receivedReply: false))
        #expect(ProxyCore.isFailoverCase(status: 408, generatedLocally: true, receivedReply: false))
        #expect(!ProxyCore.isFailoverCase(status: 408, generatedLocally: true, receivedReply: true))
        #expect(!ProxyCore.isFailoverCase(status: 408, generatedLocally: false, receivedReply: true))
        for status in [404, 480, 486, 487, 500, 502, 504, 603] {
            #expect(!ProxyCore.isFailoverCase(status: status, generatedLocally: false, receivedReply: true))
        }
    }

    @Test("A timeout with no reply at all: the INVITE goes to the second address (failover, first blacklisted)")
    func silentTargetFailsOver() throws {
        let proxy = try proxy()
        _ = try invite(proxy, "fo-silent")
        // Timer C (5 s) or Timer B (32 s), whichever ends the silent branch first: a local 408, no reply.
        proxy.advance(byMilliseconds: 40_000)
        let sent = proxy.sent()
        #expect(sent.contains { $0.destination == second.address && $0.method == .invite })
        #expect(failovers(proxy) == 1)
        #expect(proxy.core.settings.dns.blacklist.snapshot().map { $0.0 }.contains("127.0.0.1:5080"))
    }

    @Test("180, then Timer C, the CANCEL unanswered, the final 408: no failover, 408 upstream")
    func provisionalThenTimerCDoesNotFailOver() throws {
        let proxy = try proxy()
        let received = try invite(proxy, "fo-tc")
        proxy.receive(first.response(to: received, status: 180), from: first.address)
        #expect(proxy.sent().map(\.status) == [180])
        proxy.advance(byMilliseconds: 5_000)  // Timer C: the CANCEL
        let cancel = proxy.sent()
        #expect(cancel.map(\.method) == [.cancel])
        #expect(cancel.first?.destination == first.address)
        // The next hop answers neither the CANCEL nor the INVITE: Timer C's grace (64·T1) ends the branch.
        proxy.advance(byMilliseconds: 40_000)
        let sent = proxy.sent()
        #expect(!sent.contains { $0.destination == second.address }, "no INVITE to the second address")
        #expect(sent.contains { $0.destination == uac.address && $0.status == 408 })
        #expect(failovers(proxy) == 0)
        #expect(blacklisted(proxy) == 0)
    }

    @Test("180, then Timer C, the 487 to the CANCEL: no failover, 487 upstream")
    func provisionalThenCancelledDoesNotFailOver() throws {
        let proxy = try proxy()
        let received = try invite(proxy, "fo-487")
        proxy.receive(first.response(to: received, status: 180), from: first.address)
        _ = proxy.sent()
        proxy.advance(byMilliseconds: 5_000)
        let cancel = try #require(proxy.sent().first { $0.method == .cancel })
        proxy.receive(first.response(to: cancel.message, status: 200), from: first.address)
        proxy.receive(first.response(to: received, status: 487), from: first.address)
        let sent = proxy.sent()
        #expect(!sent.contains { $0.destination == second.address && $0.method == .invite })
        #expect(sent.contains { $0.destination == uac.address && $0.status == 487 })
        #expect(failovers(proxy) == 0)
        #expect(blacklisted(proxy) == 0)
    }

    @Test("A 100 only, then the timeout: a reply came, so no failover")
    func tryingThenTimeoutDoesNotFailOver() throws {
        let proxy = try proxy()
        let received = try invite(proxy, "fo-100")
        proxy.receive(first.response(to: received, status: 100), from: first.address)
        proxy.advance(byMilliseconds: 60_000)
        #expect(!proxy.sent().contains { $0.destination == second.address && $0.method == .invite })
        #expect(failovers(proxy) == 0)
    }

    @Test("A 408 sent by the next hop goes upstream (no failover); a 503 it sends fails over")
    func receivedStatuses() throws {
        let proxy408 = try proxy()
        let received408 = try invite(proxy408, "fo-r408")
        proxy408.receive(first.response(to: received408, status: 408), from: first.address)
        let sent408 = proxy408.sent()
        #expect(sent408.contains { $0.destination == uac.address && $0.status == 408 })
        #expect(!sent408.contains { $0.destination == second.address && $0.method == .invite })
        #expect(failovers(proxy408) == 0)

        let proxy503 = try proxy()
        let received503 = try invite(proxy503, "fo-r503")
        proxy503.receive(first.response(to: received503, status: 503), from: first.address)
        let sent503 = proxy503.sent()
        #expect(sent503.contains { $0.destination == second.address && $0.method == .invite })
        #expect(!sent503.contains { $0.destination == uac.address && ($0.status ?? 0) >= 300 })
        #expect(failovers(proxy503) == 1)
    }
}
