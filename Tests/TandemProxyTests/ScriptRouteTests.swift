import Foundation
import Glibc
import SIPCore
import TandemServer
import Testing
import Synchronization
@testable import TandemProxy
import TandemTestSupport

/// Route types beyond the main route: onreply_route, branch_route, startup_route, timer_route.
@Suite(.serialized)
struct ScriptRouteTests {
    static let modules = """
        loadmodule "cfgutils.so"
        loadmodule "cachedb_local.so"
        loadmodule "textops.so"
        """

    @Test("onreply_route and t_on_reply run for branch replies; drop removes a provisional reply")
    func replyRoutes() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                t_on_reply("mark");
                t_relay("udp:127.0.0.1:\(uas.port)");
            }
            onreply_route {
                if ($rs == 183) { drop; }
                append_hf("X-Main: $rs\\r\\n");
            }
            onreply_route[mark] {
                append_hf("X-Armed: $rr\\r\\n");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-reply-1", callID: "reply-1"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        try uas.reply(to: request, from: peer, status: 183)
        try uas.reply(to: request, from: peer, status: 180)
        var replies: [SIPMessage] = []
        // The final reply only once the 180 is through: two workers may take back-to-back replies in
        // either order, and a 1xx after the final one is rightly dropped.
        var sentFinal = false
        while let message = client.receive(timeout: 1) {
            replies.append(message)
            if (message.statusCode ?? 0) >= 200 { break }
            if message.statusCode == 180 && !sentFinal {
                sentFinal = true
                try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
            }
        }
        let statuses = replies.compactMap(\.statusCode)
        #expect(statuses == [100, 180, 486])
        let ringing = replies.first { $0.statusCode == 180 }
        #expect(ringing?.header(.other("X-Main")) == "180")
        #expect(ringing?.header(.other("X-Armed")) == "Ringing")
        #expect(replies.last?.header(.other("X-Armed")) == "Busy Here")
    }

    @Test("async() in onreply_route: the reply waits for the resume route, which still sees and changes it")
    func asyncInReplyRoute() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                t_relay("udp:127.0.0.1:\(uas.port)");
            }
            onreply_route {
                if ($rs == 180) { async(usleep(150000), after_wait); }
            }
            route[after_wait] {
                append_hf("X-Async: rc=$rc rs=$rs\r\n");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-reply-2", callID: "reply-2"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        let sent = Date()
        try uas.reply(to: request, from: peer, status: 180)
        let (ringing, _) = client.waitFor(timeout: 2) { $0 == 180 }
        #expect(Date().timeIntervalSince(sent) >= 0.14)
        #expect(ringing?.header(.other("X-Async")) == "rc=1 rs=180")
        try uas.reply(to: request, from: peer, status: 200)
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 200)
    }

    @Test("branch_route works on the branch's own copy of the request")
    func branchRoute() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                t_on_branch("per_branch");
                $du = "sip:127.0.0.1:\(uas.port)";
                t_relay();
            }
            branch_route[per_branch] {
                append_hf("X-Branch: yes\\r\\n");
                $rU = "carol";
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", branch: "z9hG4bK-branch-1", callID: "branch-1"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        #expect(request.header(.other("X-Branch")) == "yes")
        #expect(request.requestURIText == "sip:carol@127.0.0.1:9")
        try uas.reply(to: request, from: peer, status: 200)
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 200)
    }

    @Test("startup_route runs once before traffic; timer_route runs every interval")
    func startupAndTimerRoutes() throws {
        let proxy = try ScriptedProxy(routes: """
            startup_route {
                cache_store("local", "boot", "done");
                $var(n) = 0;
            }
            timer_route[tick, 1] {
                cache_store("local", "tick", "ticked");
            }
            route {
                if (!cache_fetch("local", "boot", $var(b))) { $var(b) = "none"; }
                if (!cache_fetch("local", "tick", $var(t))) { $var(t) = "none"; }
                sl_send_reply(299, "boot=$var(b) tick=$var(t)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", branch: "z9hG4bK-timer-1", callID: "timer-1"))
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.reasonPhrase == "boot=done tick=none")
        usleep(1_300_000)
        try client.send(client.request("OPTIONS", branch: "z9hG4bK-timer-2", callID: "timer-2"))
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.reasonPhrase == "boot=done tick=ticked")
    }

    @Test("update_stat counts into the script's statistics, shared by all workers")
    func updateStat() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                update_stat("options_seen", 1);
                update_stat("weight", 5);
                sl_send_reply(200, "OK");
            }
            """, globals: #"loadmodule "statistics.so""#, workers: 2)
        let client = try SIPTestClient(proxyPort: proxy.port)
        for i in 0..<10 {
            try client.send(client.request("OPTIONS", branch: "z9hG4bK-stat-\(i)", callID: "stat-\(i)"))
            #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 200)
        }
        #expect(proxy.server.statistics.value(of: "options_seen") == 10)
        #expect(proxy.server.statistics.value(of: "weight") == 50)
    }

    @Test("Max-Forwards 0: t_relay answers 483 and fails; the script's fallback reply is not sent twice")
    func maxForwardsZero() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
            }
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        var text = String(decoding: client.request("INVITE", branch: "z9hG4bK-mf-1", callID: "mf-1"), as: UTF8.self)
        text = text.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 0")
        try client.send(Array(text.utf8))
        let (reply, seen) = client.waitFor(timeout: 2) { $0 >= 200 }
        #expect(reply?.statusCode == 483)
        #expect(!seen.contains(500))
        #expect(client.receive(timeout: 0.3)?.statusCode != 500)
    }

    @Test("A next hop with no listener (ICMP port unreachable) gets 503 at once, not 408 after Timer B")
    func icmpUnreachableGives503() throws {
        let dead = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                $du = "sip:127.0.0.1:\(dead)";
                t_relay();
            }
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        let started = Date()
        try client.send(client.request("INVITE", branch: "z9hG4bK-icmp-1", callID: "icmp-1"))
        let reply = client.waitFor(timeout: 5) { $0 >= 200 }.match
        #expect(reply?.statusCode == 503)
        #expect(Date().timeIntervalSince(started) < 2, "Timer B is 32 s; the ICMP error must end the branch")
    }

    @Test("A request missing a mandatory header gets a 400 that names the problem")
    func badRequestGets400() throws {
        let proxy = try ScriptedProxy(routes: ScriptedProxy.relayRoutes)
        let client = try SIPTestClient(proxyPort: proxy.port)
        var text = String(decoding: client.request("INVITE", branch: "z9hG4bK-bad-1", callID: "bad-1"), as: UTF8.self)
        text = text.replacingOccurrences(of: "From: <sip:alice@127.0.0.1>;tag=a1\r\n", with: "")
        try client.send(Array(text.utf8))
        let reply = client.waitFor(timeout: 2) { $0 >= 200 }.match
        #expect(reply?.statusCode == 400)
        #expect(reply?.reasonPhrase?.contains("From") == true, "\(reply?.reasonPhrase ?? "")")

        // An unsupported SIP version gets 505.
        var future = String(decoding: client.request("OPTIONS", branch: "z9hG4bK-bad-2", callID: "bad-2"), as: UTF8.self)
        future = future.replacingOccurrences(of: "OPTIONS sip:bob@127.0.0.1:9 SIP/2.0", with: "OPTIONS sip:bob@127.0.0.1:9 SIP/7.0")
        try client.send(Array(future.utf8))
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 505)
        #expect(proxy.core.counters.parseErrors.load(ordering: .relaxed) == 2)
    }
}
