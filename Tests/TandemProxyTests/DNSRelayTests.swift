import DNSResolver
import Foundation
import Glibc
import Reactor
import SIPCore
import TandemScript
import TandemServer
import Synchronization
import Testing
@testable import TandemProxy
import TandemTestSupport

let dnsTestServer = TestEnvironment.dnsServer

/// Next hops by name through the worker's resolver against the dnsmasq test server
/// (`TANDEM_TEST_SERVERS=dns bash scripts/test.sh --filter DNSRelayTests`): the transaction waits for
/// the answer without the script knowing, RFC 3263 SRV failover, DNS outage.
@Suite(.enabled(if: dnsTestServer != nil, "TANDEM_TEST_DNS_SERVER not set (start the dns test server)"), .serialized,
       .freezesDNSServer)
struct DNSRelayTests {
    static func proxy(extraGlobals: String = "") throws -> ScriptedProxy {
        try ScriptedProxy(routes: """
            route {
                if (is_method("OPTIONS") && $rU == "ping") { sl_send_reply(200, "Pong"); exit; }
                if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
            }
            """, globals: """
            dns_servers = "\(dnsTestServer!)"
            dns_retr_time = 1
            dns_retr_no = 1
            dns_use_search_list = 0
            \(extraGlobals)
            """)
    }

    static func count(_ proxy: ScriptedProxy, _ counter: DNSStatistics.Counter) -> Int {
        proxy.core.settings.dns.statistics.value(counter)
    }

    @Test("A Request-URI host name is resolved while the transaction waits; then from the cache")
    func requestURINameRelayed() throws {
        let proxy = try Self.proxy()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let uas = try SIPTestServer()
        for i in 1...2 {
            try client.send(client.request("INVITE", uri: "sip:bob@a.test.tandem:\(uas.port)", branch: "z9hG4bK-dn-\(i)",
                                           callID: "dn-\(i)"))
            var received = try #require(uas.receive(timeout: 3))
            if received.0.method == .ack { received = try #require(uas.receive(timeout: 3)) }  // dn-1's ACK
            #expect(received.0.callID == "dn-\(i)")
            try uas.reply(to: received.0, from: received.1, status: 486)
            #expect(client.waitFor(timeout: 3) { $0 == 486 }.match != nil)
        }
        #expect(Self.count(proxy, .queries) == 1)
        #expect(Self.count(proxy, .cacheHits) >= 1)
        // The worker's channel counted the query against the server it went to (/stats dns.servers).
        let servers = proxy.core.settings.dns.statistics.serverSnapshot()
        #expect(servers[dnsTestServer!] == ["sent": 1, "answered": 1, "failed": 0, "unreachable": 0])
    }

    @Test("An unknown name gets 503 (NXDOMAIN, then the cached negative answer)")
    func nxdomainGets503() throws {
        let proxy = try Self.proxy()
        let client = try SIPTestClient(proxyPort: proxy.port)
        for i in 1...2 {
            try client.send(client.request("INVITE", uri: "sip:bob@nothing.test.tandem:5060", branch: "z9hG4bK-nx-\(i)",
                                           callID: "nx-\(i)"))
            #expect(client.waitFor(timeout: 3) { $0 == 503 }.match != nil)
        }
        #expect(Self.count(proxy, .queries) == 1)
        #expect(Self.count(proxy, .negativeHits) == 1)
        // Both count under /stats refused_by_reason.host_name (NXDOMAIN answered, then from the cache).
        #expect(proxy.core.counters.hostNamesRefused.load(ordering: .relaxed) == 2)
        #expect(proxy.core.counters.refusedByReasonSnapshot()["host_name"] == 2)
    }

    @Test("NAPTR → SRV → A: the first targets answer 503, the branch fails over to the next ones")
    func srvFailover() throws {
        let ports = TestEnvironment.dnsSRVPorts
        try #require(ports.count == 3)
        let proxy = try Self.proxy()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let uases = try ports.map { try SIPTestServer(port: $0) }
        try client.send(client.request("INVITE", uri: "sip:bob@naptr.test.tandem", branch: "z9hG4bK-fo-1",
                                       callID: "fo-1"))
        // Priority 10 (t1, t2) in a weighted order, then priority 20 (t3): the first two say 503.
        var answered: [UInt16] = []
        let deadline = Date().addingTimeInterval(5)
        while answered.count < 3, Date() < deadline {
            for (index, uas) in uases.enumerated() {
                guard let (request, from) = uas.receive(timeout: 0.02), request.method == .invite else { continue }
                answered.append(ports[index])
                try uas.reply(to: request, from: from, status: ports[index] == ports[2] ? 200 : 503)
            }
        }
        #expect(Set(answered.prefix(2)) == Set(ports.prefix(2)))
        #expect(answered.last == ports[2])
        #expect(client.waitFor(timeout: 3) { $0 == 200 }.match != nil)
        #expect(Self.count(proxy, .failovers) == 2)
        let listed = proxy.core.settings.dns.blacklist.snapshot().map { $0.0 }
        #expect(listed.contains("127.0.0.1:\(ports[0])") && listed.contains("127.0.0.1:\(ports[1])"))
    }

    @Test("DNS frozen: cached names and numeric hosts relay, an uncached name gets 503 in time, OPTIONS answered")
    func dnsOutage() throws {
        let pid = try #require(TestEnvironment.dnsPID)
        let proxy = try Self.proxy()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let uas = try SIPTestServer()
        // Warm the cache for t1.
        try client.send(client.request("OPTIONS", uri: "sip:bob@t1.test.tandem:\(uas.port)", branch: "z9hG4bK-w-1",
                                       callID: "w-1"))
        let warm = try #require(uas.receive(timeout: 3))
        try uas.reply(to: warm.0, from: warm.1, status: 200)
        #expect(client.waitFor(timeout: 3) { $0 == 200 }.match != nil)

        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let start = Date()
        try client.send(client.request("INVITE", uri: "sip:bob@t3.test.tandem:\(uas.port)", branch: "z9hG4bK-o-1",
                                       callID: "o-1"))
        // While that name waits: the cached name, a numeric host and OPTIONS to the proxy go at once.
        try client.send(client.request("OPTIONS", uri: "sip:bob@t1.test.tandem:\(uas.port)", branch: "z9hG4bK-o-2",
                                       callID: "o-2"))
        try client.send(client.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(uas.port)", branch: "z9hG4bK-o-3",
                                       callID: "o-3"))
        try client.send(client.request("OPTIONS", uri: "sip:ping@127.0.0.1:\(proxy.port)", branch: "z9hG4bK-o-4",
                                       callID: "o-4"))
        var relayed: Set<String> = []
        for _ in 0..<2 {
            guard let (request, from) = uas.receive(timeout: 1) else { break }
            relayed.insert(request.callID ?? "")
            try uas.reply(to: request, from: from, status: 200)
        }
        #expect(relayed == ["o-2", "o-3"])
        // o-1's transaction waits for DNS: it counts as suspended (suspended_now, max_suspended).
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1)
        var finals: [String: Int] = [:]
        while finals.count < 4, Date().timeIntervalSince(start) < 6 {
            guard let reply = client.receive(timeout: 0.5), let status = reply.statusCode, status >= 200 else { continue }
            finals[reply.callID ?? ""] = status
            if reply.callID == "o-1" { #expect(Date().timeIntervalSince(start) < 4, "503 within dns_retr_time × tries") }
        }
        #expect(finals == ["o-1": 503, "o-2": 200, "o-3": 200, "o-4": 200])
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
        #expect(Self.count(proxy, .timeouts) >= 1)
        kill(pid, SIGCONT)
        // After SIGCONT a new name resolves again.
        try client.send(client.request("OPTIONS", uri: "sip:bob@t2.test.tandem:\(uas.port)", branch: "z9hG4bK-o-5",
                                       callID: "o-5"))
        #expect(uas.receive(timeout: 3)?.0.callID == "o-5")
    }

    @Test("ICMP unreachable on the first SRV targets fails over to the next one")
    func icmpFailover() throws {
        let ports = TestEnvironment.dnsSRVPorts
        try #require(ports.count == 3)
        let proxy = try Self.proxy()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let last = try SIPTestServer(port: ports[2])  // t1 and t2: nothing listens, the kernel answers ICMP
        try client.send(client.request("INVITE", uri: "sip:bob@naptr.test.tandem", branch: "z9hG4bK-ic-1",
                                       callID: "ic-1"))
        let received = try #require(last.receive(timeout: 5))
        try last.reply(to: received.0, from: received.1, status: 200)
        #expect(client.waitFor(timeout: 3) { $0 == 200 }.match != nil)
        #expect(Self.count(proxy, .failovers) == 2)
    }

    @Test("Timer B ($T_fr_timeout: no provisional, so not fr_inv_timeout) on silent SRV targets: their 408 fails over to the next target")
    func timerCFailover() throws {
        let ports = TestEnvironment.dnsSRVPorts
        try #require(ports.count == 3)
        let proxy = try ScriptedProxy(routes: """
            route {
                $T_fr_timeout = 1;
                if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
            }
            """, globals: """
            dns_servers = "\(dnsTestServer!)"
            dns_retr_time = 1
            dns_retr_no = 1
            dns_use_search_list = 0
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        // t1 and t2 (priority 10) receive the INVITE and never answer; t3 (priority 20) says 200.
        let silent = try ports.prefix(2).map { try SIPTestServer(port: $0) }
        let last = try SIPTestServer(port: ports[2])
        let start = Date()
        try client.send(client.request("INVITE", uri: "sip:bob@naptr.test.tandem", branch: "z9hG4bK-tc-1",
                                       callID: "tc-1"))
        let received = try #require(last.receive(timeout: 6))
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 1.8 && waited < 4, "two Timer B expiries of 1 s before t3: \(waited) s")
        try last.reply(to: received.0, from: received.1, status: 200)
        #expect(client.waitFor(timeout: 3) { $0 == 200 }.match != nil)
        #expect(Self.count(proxy, .failovers) == 2)
        for server in silent { #expect(server.receive(timeout: 0.5)?.0.method == .invite) }
    }

    @Test("disable_dns_failover: the first target's 503 goes upstream")
    func failoverDisabled() throws {
        let ports = TestEnvironment.dnsSRVPorts
        try #require(ports.count == 3)
        let proxy = try Self.proxy(extraGlobals: "disable_dns_failover = 1\ndisable_dns_blacklist = 1")
        let client = try SIPTestClient(proxyPort: proxy.port)
        let uases = try ports.map { try SIPTestServer(port: $0) }
        try client.send(client.request("INVITE", uri: "sip:bob@naptr.test.tandem", branch: "z9hG4bK-nf-1",
                                       callID: "nf-1"))
        var invites = 0
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            for uas in uases {
                guard let (request, from) = uas.receive(timeout: 0.02), request.method == .invite else { continue }
                invites += 1
                try uas.reply(to: request, from: from, status: 503)
            }
            if invites > 0 { break }
        }
        #expect(client.waitFor(timeout: 3) { $0 == 503 }.match != nil)
        #expect(invites == 1)
        #expect(Self.count(proxy, .failovers) == 0)
        #expect(proxy.core.settings.dns.blacklist.snapshot().isEmpty)
    }

    @Test("The dns_* core parameters reach the resolver settings")
    func coreParameters() throws {
        let result = ScriptChecker().check(source: """
            dns_servers = "127.0.0.1:5353,10.0.0.1"
            dns_try_ipv6 = 1
            dns_try_naptr = 0
            dns_retr_time = 2
            dns_retr_no = 3
            dns_servers_no = 1
            dns_use_search_list = no
            disable_dns_failover = 1
            disable_dns_blacklist = yes
            route { exit; }
            """, fileName: "dns.cfg")
        let (settings, problems) = ServerConfiguration.dnsSettings(for: result.config)
        #expect(problems.isEmpty)
        let s = try #require(settings)
        #expect(s.servers == ["127.0.0.1:5353", "10.0.0.1"])
        #expect(s.tryIPv6 && !s.tryNAPTR && !s.useSearchList && s.disableFailover && s.disableBlacklist)
        #expect(s.retransmissionSeconds == 2 && s.retransmissions == 3 && s.serverCount == 1)
        #expect(ServerConfiguration.ignoredParameters(in: result.config).isEmpty)
        let bad = ScriptChecker().check(source: "dns_servers = \"ns.example.com\"\nroute { exit; }\n", fileName: "bad.cfg")
        #expect(ServerConfiguration.dnsSettings(for: bad.config).1.count == 1, "a name is refused: no lookup to find the DNS")
    }

    @Test("dns_query: records into an AVP inside async() and outside it; -2 for an unknown name")
    func scriptQuery() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if ($rU == "sync") {
                    dns_query("v6.test.tandem", "AAAA", $avp(r));
                    sl_send_reply(200, "$rc $avp(r)");
                    exit;
                }
                if ($rU == "srv") { async(dns_query("_sip._udp.srv.test.tandem", "SRV", $avp(r)), answer); }
                async(dns_query("$rU.test.tandem", "A", $avp(r)), answer);
            }
            route[answer] {
                if ($rc > 0) { sl_send_reply(200, "$rc $avp(r)"); } else { sl_send_reply(404, "$rc"); }
                exit;
            }
            """, globals: """
            loadmodule "tandem.so"
            dns_servers = "\(dnsTestServer!)"
            dns_use_search_list = 0
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        func ask(_ user: String) throws -> (Int, String) {
            try client.send(client.request("OPTIONS", uri: "sip:\(user)@127.0.0.1:\(proxy.port)",
                                           branch: "z9hG4bK-q-\(user)", callID: "q-\(user)"))
            let reply = client.waitFor(timeout: 3) { $0 >= 200 }.match
            return (reply?.statusCode ?? 0, reply?.reasonPhrase ?? "")
        }
        #expect(try ask("a") == (200, "1 127.0.0.1"))
        #expect(try ask("missing") == (404, "-2"))
        let srv = try ask("srv")
        #expect(srv.0 == 200 && srv.1.hasPrefix("3 "))
        #expect(try ask("sync") == (200, "1 ::1"))
    }
}
