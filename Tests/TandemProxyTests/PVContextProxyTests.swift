import SIPCore
import TandemTestSupport
import Testing

/// `$(<request>...)` in an onreply_route and `$(<reply>...)` in a failure_route (issue 15), over real
/// UDP sockets.
@Suite struct PVContextProxyTests {
    @Test("onreply_route reads the transaction's request through <request>; failure_route reads the reply through <reply>")
    func contextsOnTheWire() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                $ru = "sip:bob@127.0.0.1:\(uas.port)";
                t_on_reply("seen");
                t_on_failure("failed");
                t_relay();
            }
            onreply_route[seen] {
                append_hf("X-Request: $(<request>rm) $(<request>ru) $(<request>hdr(Call-ID))\\r\\n");
            }
            failure_route[failed] {
                append_to_reply("X-Reply: $(<reply>rs) $(<reply>rr) $(<reply>hdr(To){nameaddr.uri})\\r\\n");
                t_reply(480, "Tried");
            }
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", uri: "sip:alice@127.0.0.1", branch: "z9hG4bK-ctx-1", callID: "ctx-1"))
        let (request, peer) = try #require(uas.receive(timeout: 5))
        try uas.reply(to: request, from: peer, status: 180)
        let ringing = client.waitFor(timeout: 5) { $0 == 180 }.match
        #expect(ringing?.header(.other("X-Request")) == "INVITE sip:bob@127.0.0.1:\(uas.port) ctx-1")
        try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
        let final = try #require(client.waitFor(timeout: 5) { $0 >= 200 }.match)
        #expect(final.statusCode == 480)
        #expect(final.header(.other("X-Reply")) == "486 Busy Here sip:alice@127.0.0.1")
    }
}

/// `t_on_failure(...)` in an onreply_route arms or, with `"0"` (no failure_route[0]), disarms the
/// transaction's failure route, as in OpenSIPS's own example scripts (issue 15).
@Suite struct ReplyRouteArmingTests {
    private func call(disarm: Bool, callID: String) throws -> Int? {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                $ru = "sip:bob@127.0.0.1:\(uas.port)";
                t_on_reply("provisional");
                t_on_failure("failed");
                t_relay();
            }
            onreply_route[provisional] {
                if ($rs =~ "18[0-9]" && \(disarm ? 1 : 0) == 1) { t_on_failure("0"); }
            }
            failure_route[failed] { t_reply(480, "Failure Route Ran"); }
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", uri: "sip:alice@127.0.0.1", branch: "z9hG4bK-\(callID)", callID: callID))
        let (request, peer) = try #require(uas.receive(timeout: 5))
        try uas.reply(to: request, from: peer, status: 180)
        #expect(client.waitFor(timeout: 5) { $0 == 180 }.match != nil)
        try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
        return client.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode
    }

    @Test("t_on_failure(\"0\") on a 180 disarms the failure route: the 486 goes upstream")
    func disarmedOnProvisional() throws {
        #expect(try call(disarm: true, callID: "arm-1") == 486)
        #expect(try call(disarm: false, callID: "arm-2") == 480)
    }
}
