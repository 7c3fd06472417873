import Foundation
import Glibc
import SIPCore
import Testing
@testable import TandemProxy

/// async()/launch() in every route the spec allows, over real UDP against the running proxy (issue 13).
@Suite(.serialized)
struct AsyncRouteTests {
    static let modules = AsyncScriptTests.modules

    /// Polls the proxy with OPTIONS until `cache_fetch("local", key)` answers (the script replies 299
    /// with the stored value), for at most two seconds.
    static func fetched(_ client: SIPTestClient, tag: String) throws -> String? {
        for attempt in 0..<20 {
            try client.send(client.request("OPTIONS", branch: "z9hG4bK-\(tag)-o\(attempt)", callID: "\(tag)-o\(attempt)"))
            let answer = client.waitFor(timeout: 1) { $0 >= 200 }.match
            if answer?.statusCode == 299 { return answer?.reasonPhrase }
            usleep(100_000)
        }
        return nil
    }

    /// Script lines answering OPTIONS with the cached value of `key` (299) or 404.
    static func cacheProbe(_ key: String) -> String {
        """
        if (is_method("OPTIONS")) {
            if (cache_fetch("local", "\(key)", $var(r))) { sl_send_reply(299, "$var(r)"); exit; }
            sl_send_reply(404, "not yet");
            exit;
        }
        """
    }

    @Test("async() on a 2xx ACK (no transaction): the resume route runs with the AVPs and t_relay forwards it statelessly")
    func ackResumeRouteRuns() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("ACK")) {
                    $avp(k) = "kept";
                    async(usleep(1000), ack_resume);
                    exit;
                }
                sl_send_reply(404, "no");
            }
            route[ack_resume] {
                $du = "sip:127.0.0.1:\(uas.port)";
                append_hf("X-Resumed: rc=$rc k=$avp(k)\\r\\n");
                t_relay();
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("ACK", branch: "z9hG4bK-ack-1", callID: "ack-1",
                                       extraHeaders: ""))
        let (ack, _) = try #require(uas.receive(timeout: 3))
        #expect(ack.method == .ack)
        #expect(ack.header(.other("X-Resumed")) == "rc=1 k=kept")
        #expect(proxy.core.counters.serverTransactionsCreated.load(ordering: .relaxed) == 0)
    }

    @Test("onreply_route: AVPs of the request and those set before async() are in the resume route")
    func replyRouteKeepsAVPsAcrossAsync() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                \(Self.cacheProbe("reply"))
                $avp(req) = "from-request";
                t_on_reply("r");
                $du = "sip:127.0.0.1:\(uas.port)";
                t_relay();
            }
            onreply_route[r] {
                if ($rs == 200) {
                    $avp(rep) = "from-reply";
                    async(usleep(1000), reply_resume);
                }
            }
            route[reply_resume] {
                cache_store("local", "reply", "rc=$rc req=$avp(req) rep=$avp(rep)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("MESSAGE", branch: "z9hG4bK-rep-1", callID: "rep-1"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        try uas.reply(to: request, from: peer, status: 200)
        let (reply, _) = client.waitFor(timeout: 3) { $0 >= 200 }
        #expect(reply?.statusCode == 200)
        #expect(try Self.fetched(client, tag: "rep-1") == "rc=1 req=from-request rep=from-reply")
    }
}
