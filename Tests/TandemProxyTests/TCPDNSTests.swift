import DNSResolver
import Foundation
import Glibc
import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
import Testing
@testable import TandemProxy

/// RFC 3263 for TCP through the proxy against the dnsmasq test server
/// (`TANDEM_TEST_SERVERS=dns bash scripts/test.sh --filter TCPDNSTests`): NAPTR picks TCP when the
/// proxy has a TCP socket, SRV `_sip._tcp` failover, double Record-Route kept right when the failover
/// target needs another socket, and SIPp calls over TCP to a NAPTR → SRV → A name.
@Suite(.enabled(if: TestEnvironment.dnsServer != nil && TestEnvironment.dnsTCPPorts.count == 3,
                "TANDEM_TEST_DNS_SERVER / TANDEM_TEST_DNS_TCP_PORTS not set (start the dns test server)"),
       .serialized, .exclusiveLoad, DNSServerTurn(exclusive: false))
// The load turn is taken before the DNS turn, in the order DNSOutageLoadTests takes them: the other order
// deadlocks the run (this suite holding its DNS turn waits for the load turn that DNSOutageLoadTests holds
// while it waits for the DNS server to itself).
struct TCPDNSTests {
    static let ports = TestEnvironment.dnsTCPPorts
    static let dnsGlobals = """
        dns_servers = "\(TestEnvironment.dnsServer ?? "")"
        dns_retr_time = 1
        dns_retr_no = 1
        dns_use_search_list = 0

        """

    static let recordRouting = """
        route {
            if (has_totag()) {
                if (loose_route()) { t_relay(); exit; }
                sl_send_reply(404, "Not Here");
                exit;
            }
            record_route();
            if ($rU == "fail") { $du = "sip:tcpfail.test.tandem;transport=tcp"; }
            if ($rU == "v6") { $du = "sip:v6.test.tandem:V6PORT;transport=tcp"; }
            if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
        }
        """

    @Test("NAPTR SIP+D2T → SRV _sip._tcp → A: a UDP caller's INVITE goes over TCP, with double Record-Route")
    func naptrChoosesTCP() throws {
        let callee = try TCPTestListener(port: Self.ports[1])
        let proxy = try ScriptedProxy(routes: Self.recordRouting, globals: Self.dnsGlobals, tcp: true)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", uri: "sip:bob@tcpnaptr.test.tandem", branch: "z9hG4bK-dnstcp-1",
                                       callID: "dnstcp-1"))
        let connection = try #require(callee.accept(timeout: 5), "the proxy connects to the SRV target over TCP")
        let invite = try #require(connection.receive(timeout: 5))
        #expect(try invite.topVia().transport.uppercased() == "TCP")
        #expect(invite.headerValues(.recordRoute) == ["<sip:127.0.0.1:\(proxy.port);transport=tcp;lr>",
                                                       "<sip:127.0.0.1:\(proxy.port);lr>"])
        connection.send(SIPMessage.makeResponse(to: invite, status: 486, reason: nil, toTag: "busy"))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 486)
    }

    @Test("UDP-only proxy: the same NAPTR name goes over UDP (SIP+D2U), TCP records skipped")
    func udpOnlyKeepsUDP() throws {
        let udpPorts = TestEnvironment.dnsSRVPorts
        try #require(udpPorts.count == 3)
        let uases = try udpPorts.map { try SIPTestServer(port: $0) }
        let proxy = try ScriptedProxy(routes: Self.recordRouting, globals: Self.dnsGlobals)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("OPTIONS", uri: "sip:bob@tcpnaptr.test.tandem", branch: "z9hG4bK-dnsudp-1",
                                       callID: "dnsudp-1"))
        var got: (SIPMessage, SocketAddress)?
        let deadline = Date().addingTimeInterval(5)
        while got == nil, Date() < deadline {
            for uas in uases { if let r = uas.receive(timeout: 0.02) { got = r; try uas.reply(to: r.0, from: r.1, status: 200) } }
        }
        let request = try #require(got?.0)
        #expect(try request.topVia().transport.uppercased() == "UDP")
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 200)
    }

    @Test("SRV failover from a refusing TCP target to the next: the failover branch keeps the double Record-Route")
    func failoverKeepsDoubleRecordRoute() throws {
        let callee = try TCPTestListener(port: Self.ports[1])
        let proxy = try ScriptedProxy(routes: Self.recordRouting, globals: Self.dnsGlobals, tcp: true)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", uri: "sip:fail@127.0.0.1", branch: "z9hG4bK-dnsfo-1",
                                       callID: "dnsfo-1"))
        let connection = try #require(callee.accept(timeout: 5), "t1:Q1 refuses; t2:Q2 gets the branch")
        let invite = try #require(connection.receive(timeout: 5))
        #expect(try invite.topVia().transport.uppercased() == "TCP")
        #expect(invite.headerValues(.recordRoute) == ["<sip:127.0.0.1:\(proxy.port);transport=tcp;lr>",
                                                       "<sip:127.0.0.1:\(proxy.port);lr>"])
        #expect(proxy.core.settings.dns.statistics.value(.failovers) == 1)
        connection.send(SIPMessage.makeResponse(to: invite, status: 486, reason: nil, toTag: "busy"))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 486)
    }

    @Test("failover to a target of another address family leaves from that family's TCP socket with its own double Record-Route")
    func failoverToOtherInterface() throws {
        let v6Port = Ports.free()
        // v6.test.tandem: A 127.0.0.2 (nothing listens there: refused), then AAAA ::1.
        let callee = try TCPTestListener(ip: "::1")
        let proxy = try ScriptedProxy(routes: Self.recordRouting.replacingOccurrences(of: "V6PORT", with: "\(callee.port)"),
                                      globals: Self.dnsGlobals + """
            dns_try_ipv6 = 1
            socket = tcp:[::1]:\(v6Port)
            """, tcp: true)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", uri: "sip:v6@127.0.0.1:\(callee.port)", branch: "z9hG4bK-dnsv6-1",
                                       callID: "dnsv6-1"))
        let connection = try #require(callee.accept(timeout: 5), "127.0.0.2 refuses; [::1] gets the branch")
        let invite = try #require(connection.receive(timeout: 5))
        let via = try invite.topVia()
        #expect(via.transport.uppercased() == "TCP")
        #expect(via.port == v6Port, "Via of the IPv6 TCP socket")
        let recordRoutes = invite.headerValues(.recordRoute)
        #expect(recordRoutes.count == 2)
        #expect(recordRoutes.first?.contains("[::1]:\(v6Port)") == true && recordRoutes.first?.contains("transport=tcp") == true,
                "\(recordRoutes)")
        #expect(recordRoutes.last == "<sip:127.0.0.1:\(proxy.port);lr>")
        connection.send(SIPMessage.makeResponse(to: invite, status: 486, reason: nil, toTag: "busy"))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 486)
    }

    @Test("SIPp over TCP (-t t1) to a NAPTR → SRV (_sip._tcp) → A name: 100 calls, 0 failed")
    func sippThroughNAPTR() throws {
        let calls = 100
        let uasPort = Self.ports[1]
        let proxy = try ScriptedProxy(routes: TCPLoadTests.routes(uasPort: uasPort)
            .replacingOccurrences(of: "sip:127.0.0.1:\(uasPort);transport=tcp", with: "sip:tcpnaptr.test.tandem"),
                                      globals: Self.dnsGlobals, workers: 2, tcp: true)
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "\(calls)", "-t", "t1"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: calls, rate: 50, extra: ["-t", "t1"])
        let client = uac.wait(seconds: 60)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == calls, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        #expect(proxy.core.settings.dns.statistics.value(.queries) >= 3, "NAPTR, SRV and A were asked")
        #expect(proxy.core.streams.counters.connectFailures.load(ordering: .relaxed) == 0)
    }
}
