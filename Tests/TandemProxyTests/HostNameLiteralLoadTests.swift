import Logging
import SIPCore
import TandemServer
import TandemTestSupport
import Testing

/// Host names in comparisons (`$si == a.test.tandem`) are resolved once when the script is loaded,
/// through the configured DNS server (issue 15), never while a request is routed.
@Suite(.enabled(if: dnsTestServer != nil, "TANDEM_TEST_DNS_SERVER not set (start the dns test server)"),
       .serialized, DNSServerTurn(exclusive: false))
struct HostNameLiteralLoadTests {
    static let globals = """
        dns_servers = "\(dnsTestServer ?? "")"
        dns_retr_time = 1
        dns_retr_no = 1
        dns_use_search_list = 0
        """

    @Test("src_ip == NAME matches an address the DNS server gives for the name, and not another name's")
    func comparesWithResolvedAddresses() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if (src_ip == v6.test.tandem) { sl_send_reply(403, "Other Host"); exit; }
                if ($si == A.Test.Tandem && $si != v6.test.tandem) { sl_send_reply(200, "Known Host"); exit; }
                sl_send_reply(404, "Unknown Host");
            }
            """, globals: Self.globals)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", branch: "z9hG4bK-host-1", callID: "host-1"))
        let reply = client.waitFor(timeout: 5) { $0 >= 200 }
        #expect(reply.match?.statusCode == 200, "seen \(reply.seen)")
        #expect(reply.match?.reasonPhrase == "Known Host")
    }

    @Test("A host name that does not resolve is a load warning naming it and its line")
    func unresolvedNameWarns() throws {
        var quiet = Logger(label: "test")
        quiet.logLevel = .error
        let loaded = TandemServer.load(source: """
            socket = udp:127.0.0.1:\(Ports.free())
            \(Self.globals)
            loadmodule "sl.so"
            route {
                if ($si == nowhere.invalid) { sl_send_reply(403, "No"); exit; }
            }
            """, fileName: "hosts.cfg", logger: quiet)
        #expect(loaded.server != nil, "\(loaded.diagnostics)")
        let warnings = loaded.diagnostics.map(\.description)
        #expect(warnings.contains { $0.hasPrefix("hosts.cfg:8:16:") && $0.contains("host name 'nowhere.invalid' does not resolve") },
                "\(warnings)")
    }
}
