import DNSResolver
import Reactor
import Testing
import TandemTestSupport

extension DNSHarness {
    /// Locates with RFC 3263 §4.1 transport selection.
    func locate(_ host: String, port: UInt16? = nil, secure: Bool = false, transport: SIPLocatorTransport?,
                supported: Set<SIPLocatorTransport>) throws -> (SIPLocation, SIPLocatorTransport) {
        let result = Box<(SIPLocation, SIPLocatorTransport)?>(nil)
        SIPServerLocator(resolver: resolver).locate(host: host, port: port, secure: secure, transport: transport,
                                                    supported: supported) { result.value = ($0, $1) }
        try spin(reactor, limitMs: 5000) { result.value != nil }
        return try #require(result.value)
    }
}

/// RFC 3263 §4.1 transport selection for TCP and TLS against the dnsmasq test server: NAPTR services
/// among the transports the proxy has sockets for, `_sip._tcp` / `_sips._tcp` SRV, default ports.
@Suite(.enabled(if: dnsAvailable && TestEnvironment.dnsTCPPorts.count == 3, "TANDEM_TEST_DNS_TCP_PORTS not set"),
       .sharesDNSServer)
struct SIPTransportLocationTests {
    static let q = TestEnvironment.dnsTCPPorts
    static let p = TestEnvironment.dnsSRVPorts

    static func address(_ port: UInt16) -> SocketAddress { SocketAddress(ip: "127.0.0.1", port: port)! }

    @Test("NAPTR: the best record whose transport has a socket wins (SIPS+D2T, then SIP+D2T, then SIP+D2U)")
    func naptrChoosesSupportedTransport() throws {
        let h = try DNSHarness()
        let (tcp, tcpChoice) = try h.locate("tcpnaptr.test.tandem", transport: nil, supported: [.udp, .tcp])
        #expect(tcpChoice == .tcp)
        #expect(tcp == .targets([Self.address(Self.q[1])]), "_sip._tcp.tcpsrv → t1:Q2")
        let (udp, udpChoice) = try h.locate("tcpnaptr.test.tandem", transport: nil, supported: [.udp])
        #expect(udpChoice == .udp)
        guard case .targets(let targets) = udp else { Issue.record("\(udp)"); return }
        #expect(Set(targets.map(\.port)) == Set(Self.p), "_sip._udp.srv targets")
        let (tls, tlsChoice) = try h.locate("tcpnaptr.test.tandem", transport: nil, supported: [.udp, .tcp, .tls])
        #expect(tlsChoice == .tls)
        #expect(tls == .targets([Self.address(Self.q[2])]), "_sips._tcp.tcpsrv → t1:Q3")
    }

    @Test("sips: takes only SIPS+D2T from NAPTR; sips: without NAPTR asks _sips._tcp")
    func sipsUsesTLS() throws {
        let h = try DNSHarness()
        let (viaNAPTR, chosen) = try h.locate("tcpnaptr.test.tandem", secure: true, transport: nil, supported: [.udp, .tcp])
        #expect(chosen == .tls)
        #expect(viaNAPTR == .targets([Self.address(Self.q[2])]))
        let (viaSRV, srvChosen) = try h.locate("tcpsrv.test.tandem", secure: true, transport: nil, supported: [.udp, .tcp, .tls])
        #expect(srvChosen == .tls)
        #expect(viaSRV == .targets([Self.address(Self.q[2])]))
    }

    @Test("transport=tcp without a port: SRV _sip._tcp only; with a port: A only; numeric hosts need no DNS")
    func explicitTransport() throws {
        let h = try DNSHarness()
        let (srv, chosen) = try h.locate("tcpsrv.test.tandem", transport: .tcp, supported: [.udp, .tcp])
        #expect(chosen == .tcp)
        #expect(srv == .targets([Self.address(Self.q[1])]))
        let (withPort, portChosen) = try h.locate("a.test.tandem", port: 5070, transport: .tcp, supported: [.udp, .tcp])
        #expect(portChosen == .tcp)
        #expect(withPort == .targets([Self.address(5070)]))
        let (numeric, numericChosen) = try h.locate("192.0.2.1", secure: true, transport: nil, supported: [.udp])
        #expect(numericChosen == .tls)
        #expect(numeric == .targets([SocketAddress(ip: "192.0.2.1", port: 5061)!]), "sips: default port 5061")
    }

    @Test("no NAPTR: SRV per supported transport in order (UDP first); none: A with UDP and port 5060")
    func noNAPTRTriesEachTransport() throws {
        let h = try DNSHarness()
        let (both, bothChosen) = try h.locate("both.test.tandem", transport: nil, supported: [.udp, .tcp])
        #expect(bothChosen == .udp)
        #expect(both == .targets([Self.address(Self.p[0])]))
        let (tcpOnly, tcpChosen) = try h.locate("tcpsrv.test.tandem", transport: nil, supported: [.udp, .tcp])
        #expect(tcpChosen == .tcp, "no _sip._udp record: _sip._tcp")
        #expect(tcpOnly == .targets([Self.address(Self.q[1])]))
        let (plain, plainChosen) = try h.locate("a.test.tandem", transport: nil, supported: [.udp, .tcp])
        #expect(plainChosen == .udp)
        #expect(plain == .targets([Self.address(5060)]))
    }
}
