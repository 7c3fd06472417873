import DNSResolver
import Foundation
import Glibc
import Reactor
import Synchronization
import Testing
@testable import TandemProxy
import TandemTestSupport

/// A frozen DNS server under SIPp load (issue 18): every lookup of a fresh name waits in c-ares on the
/// worker's reactor, so calls to numeric hosts never notice it.
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
}
