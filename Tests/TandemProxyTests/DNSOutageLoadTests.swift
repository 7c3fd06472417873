import DNSResolver
import Foundation
import Glibc
import Reactor
import Synchronization
import Testing
@testable import TandemProxy
import TandemTestSupport

/// DNS under SIPp load (issue 18): a frozen DNS server (every lookup of a fresh name waits in c-ares on
/// the worker's reactor, so calls to numeric hosts never notice it), and calls to an SRV name whose first
/// targets fail (ICMP unreachable, 503) going on to the next target in the same transaction.
@Suite(.serialized, .exclusiveLoad, .freezesDNSServer,
       .enabled(if: SIPp.isAvailable && dnsTestServer != nil, "needs sipp and the dns test server"))
struct DNSOutageLoadTests {
    @Test("DNS frozen: 200 SIPp calls to a numeric host beside 300 INVITEs to fresh names: 0 failed calls, 503s")
    func frozenDNSBesideCalls() throws {
        let pid = try #require(TestEnvironment.dnsPID)
        let proxy = try DNSRelayTests.proxy()
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "200"])
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: 200, rate: 50)
        let flood = try InviteFlood(proxyPort: proxy.port, uri: { "sip:bob@fresh\($0).test.tandem:5060" },
                                    count: 300, rate: 100)
        defer { flood.stop() }
        let client = uac.wait(seconds: 60)
        let server = uas.wait(seconds: 10)
        #expect(client.successful == 200, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0)
        // Each fresh name times out after dns_retr_time × dns_retr_no (1 s): 503.
        let deadline = Date().addingTimeInterval(5)
        let counters = proxy.core.counters
        while Date() < deadline, counters.repliesSentByCode.value(at: 503 - 100) < 300 { usleep(50_000) }
        #expect(counters.repliesSentByCode.value(at: 503 - 100) >= 300)
        #expect(proxy.core.settings.dns.statistics.value(.timeouts) >= 300)
    }

    /// A proxy relaying every new call to `$du = "sip:naptr.test.tandem"` (NAPTR → SRV → A), dialogs by
    /// Record-Route.
    static func srvProxy(blacklist: Bool) throws -> ScriptedProxy {
        try ScriptedProxy(routes: """
            route {
                if (has_totag()) {
                    if (loose_route()) { t_relay(); exit; }
                    sl_send_reply(404, "Not Here");
                    exit;
                }
                record_route();
                $du = "sip:naptr.test.tandem";
                if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
            }
            """, globals: """
            dns_servers = "\(dnsTestServer!)"
            dns_retr_time = 1
            dns_retr_no = 1
            dns_use_search_list = 0
            disable_dns_blacklist = \(blacklist ? 0 : 1)
            """)
    }

    @Test("SIPp through an SRV name: t1 down (ICMP), t2 answers 503, every call fails over to t3: 300 calls, 0 failed")
    func srvFailoverUnderLoad() throws {
        let ports = TestEnvironment.dnsSRVPorts
        try #require(ports.count == 3)
        // naptr.test.tandem → _sip._udp.srv.test.tandem: t1:P1 and t2:P2 (priority 10, weights 1 and 3),
        // t3:P3 (priority 20). Nothing listens on P1; the blacklist is off so every call meets both failures.
        let proxy = try Self.srvProxy(blacklist: false)
        let calls = 300
        let refusing = try SIPp.uas("uas_503.xml", port: ports[1], controlPort: Ports.free(), extra: ["-m", "\(calls)"])
        let answering = try SIPp.uas("uas.xml", port: ports[2], controlPort: Ports.free(), extra: ["-m", "\(calls)"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(ports[2])", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: calls, rate: 100)
        let client = uac.wait(seconds: 60)
        let answered = answering.wait(seconds: 30)
        let refused = refusing.wait(seconds: 30)
        #expect(client.successful == calls, "\(client.output)")
        #expect(client.failed == 0)
        #expect(answered.successful == calls, "\(answered.output)")
        #expect(refused.successful == calls, "\(refused.output)")
        // Two failovers per call (t1 and t2 in either order); the names come from the cache (TTL 2 s: NAPTR,
        // SRV and three A queries per TTL, not per call).
        let statistics = proxy.core.settings.dns.statistics
        #expect(statistics.value(.failovers) == 2 * calls)
        #expect(statistics.value(.queries) < calls / 5)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
    }

    @Test("SIPp through an SRV name with the blacklist on: after the first failures t1 and t2 go last, 300 calls, 0 failed")
    func srvFailoverWithBlacklist() throws {
        let ports = TestEnvironment.dnsSRVPorts
        try #require(ports.count == 3)
        let proxy = try Self.srvProxy(blacklist: true)
        let calls = 300
        let refusing = try SIPp.uas("uas_503.xml", port: ports[1], controlPort: Ports.free())
        // No -m (it sees only the first calls): stopped at the end, and waited for, so its port is free
        // for the next suite that binds the SRV targets' ports.
        defer { _ = refusing.wait(seconds: 0) }
        let answering = try SIPp.uas("uas.xml", port: ports[2], controlPort: Ports.free(), extra: ["-m", "\(calls)"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(ports[2])", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: calls, rate: 100)
        let client = uac.wait(seconds: 60)
        let answered = answering.wait(seconds: 30)
        #expect(client.successful == calls, "\(client.output)")
        #expect(client.failed == 0)
        #expect(answered.successful == calls, "\(answered.output)")
        // The first call meets both failures; the calls after it start at t3 (the failed ones moved last).
        let failovers = proxy.core.settings.dns.statistics.value(.failovers)
        #expect(failovers >= 2 && failovers < 20, "\(failovers) failovers")
        let listed = Set(proxy.core.settings.dns.blacklist.snapshot().map { $0.0 })
        #expect(listed == ["127.0.0.1:\(ports[0])", "127.0.0.1:\(ports[1])"])
    }
}
