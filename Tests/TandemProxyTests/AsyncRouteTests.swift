import Foundation
import Glibc
import SIPCore
import Synchronization
import TandemScript
import TandemServer
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

    /// Polls with OPTIONS to `sip:KEY@…` until the script's `keyProbe` answers 299 with the cached value.
    static func fetched(_ client: SIPTestClient, key: String, tag: String, attempts: Int = 30) throws -> String? {
        for attempt in 0..<attempts {
            try client.send(client.request("OPTIONS", uri: "sip:\(key)@127.0.0.1:9", branch: "z9hG4bK-\(tag)-o\(attempt)",
                                           callID: "\(tag)-o\(attempt)"))
            let answer = client.waitFor(timeout: 1) { $0 >= 200 }.match
            if answer?.statusCode == 299 { return answer?.reasonPhrase }
            usleep(100_000)
        }
        return nil
    }

    /// Script lines answering OPTIONS with the cached value under the Request-URI's user (299) or 404.
    static let keyProbe = """
        if (is_method("OPTIONS")) {
            if (cache_fetch("local", "$rU", $var(r))) { sl_send_reply(299, "$var(r)"); exit; }
            sl_send_reply(404, "not yet");
            exit;
        }
        """

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

    @Test("onreply_route: a CANCEL cancels the async() job of a held 180 at once ($rc = -1), the 180 and the 487 still reach the caller")
    func cancelEndsHeldReplyJob() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                \(Self.keyProbe)
                if (is_method("CANCEL")) { t_relay(); exit; }
                t_on_reply("r");
                $du = "sip:127.0.0.1:\(uas.port)";
                t_relay();
            }
            onreply_route[r] {
                if ($rs == 180) { async(sleep(20), held); }
            }
            route[held] {
                cache_store("local", "held", "rc=$rc");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-rcan-1", callID: "rcan-1"))
        let (invite, peer) = try #require(uas.receive(timeout: 2))
        try uas.reply(to: invite, from: peer, status: 180)
        #expect(client.waitFor(timeout: 0.5) { $0 == 180 }.match == nil)  // held by the async()
        let started = Date()
        try client.send(client.request("CANCEL", branch: "z9hG4bK-rcan-1", callID: "rcan-1"))
        #expect(client.waitFor(timeout: 3) { $0 == 180 }.match != nil)  // resumed at once, not after 20 s
        #expect(Date().timeIntervalSince(started) < 3)
        // While the 180 is held the branch has heard nothing: its INVITE is retransmitted (Timer A).
        var cancel: SIPMessage?
        while cancel == nil, let (message, _) = uas.receive(timeout: 2) {
            if message.method == .cancel { cancel = message }
        }
        try uas.reply(to: try #require(cancel), from: peer, status: 200)
        try uas.reply(to: invite, from: peer, status: 487)
        #expect(client.waitFor(timeout: 3) { $0 >= 200 }.match?.statusCode == 487)
        #expect(try Self.fetched(client, key: "held", tag: "rcan-h") == "rc=-1")
    }

    @Test("Synchronous avp_db_query/exec/… run (blocking) in startup_route, timer_route, onreply_route and launch report routes")
    func synchronousCallsRunInEveryRoute() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            startup_route {
                exec("printf boot", "", $var(o));
                cache_store("local", "startup", "rc=$rc o=$var(o)");
            }
            timer_route[tick, 1] {
                exec("printf tick", "", $var(o));
                cache_store("local", "timer", "rc=$rc o=$var(o)");
            }
            route {
                \(Self.keyProbe)
                launch(usleep(1000), report);
                t_on_reply("r");
                $du = "sip:127.0.0.1:\(uas.port)";
                t_relay();
            }
            onreply_route[r] {
                exec("printf reply", "", $var(o));
                cache_store("local", "reply", "rc=$rc o=$var(o)");
            }
            route[report] {
                exec("printf report", "", $var(o));
                cache_store("local", "report", "rc=$rc o=$var(o)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        #expect(try Self.fetched(client, key: "startup", tag: "sync-s") == "rc=1 o=boot")
        try client.send(client.request("MESSAGE", branch: "z9hG4bK-sync-1", callID: "sync-1"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        try uas.reply(to: request, from: peer, status: 200)
        #expect(client.waitFor(timeout: 3) { $0 >= 200 }.match?.statusCode == 200)
        #expect(try Self.fetched(client, key: "reply", tag: "sync-r") == "rc=1 o=reply")
        #expect(try Self.fetched(client, key: "report", tag: "sync-l") == "rc=1 o=report")
        #expect(try Self.fetched(client, key: "timer", tag: "sync-t") == "rc=1 o=tick")
    }

    @Test("sync mode honours the per-call timeout; async_timeout bounds synchronous calls; async(f, r, 0) has no per-call limit")
    func timeoutsInEveryMode() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if ($rU == "sync") { async(sleep(10), resume, 1); }
                if ($rU == "blocking") { sleep(10); t_reply(299, "rc=$rc"); exit; }
                if ($rU == "zero") { async(usleep(300000), resume, 0); }
                t_reply(404, "unknown case");
            }
            route[resume] {
                t_reply(299, "rc=$rc");
            }
            """, globals: Self.modules + """

            async_timeout = 2
            modparam("tandem", "async_mode", "sleep=sync")
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        for (user, expected, limit) in [("sync", "rc=-3", 1.8), ("blocking", "rc=-3", 2.8), ("zero", "rc=1", 1.5)] {
            let started = Date()
            try client.send(client.request("MESSAGE", uri: "sip:\(user)@127.0.0.1:9", branch: "z9hG4bK-to-\(user)",
                                           callID: "to-\(user)"))
            let reply = client.waitFor(timeout: 12) { $0 >= 200 }.match
            let elapsed = Date().timeIntervalSince(started)
            #expect(reply?.reasonPhrase == expected, "\(user)")
            #expect(elapsed < limit, "\(user) took \(elapsed) s")
        }
    }

    @Test("launch() runs from startup_route and branch_route")
    func launchFromStartupAndBranchRoutes() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            startup_route {
                launch(exec("printf boot", "", $var(o)), started, "s");
            }
            route[started] {
                cache_store("local", "startup", "rc=$rc o=$var(o) p=$param(1)");
            }
            route {
                \(Self.keyProbe)
                t_on_branch("b");
                $du = "sip:127.0.0.1:\(uas.port)";
                t_relay();
            }
            branch_route[b] {
                launch(exec("printf branch", "", $var(o)), branched, "b");
            }
            route[branched] {
                cache_store("local", "branch", "rc=$rc o=$var(o) p=$param(1)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        #expect(try Self.fetched(client, key: "startup", tag: "launch-s") == "rc=1 o=boot p=s")
        try client.send(client.request("MESSAGE", branch: "z9hG4bK-launch-b", callID: "launch-b"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        try uas.reply(to: request, from: peer, status: 200)
        #expect(try Self.fetched(client, key: "branch", tag: "launch-b") == "rc=1 o=branch p=b")
    }

    @Test("tandem check: avp_db_query without db_url and ldap_search on an undefined session are errors with line and column")
    func driverCallsNeedTheirConfiguration() {
        let loaded = TandemServer.load(source: """
            loadmodule "tm.so"
            loadmodule "sl.so"
            loadmodule "avpops.so"
            loadmodule "ldap.so"
            route {
                avp_db_query("SELECT 1", "$avp(x)");
                async(ldap_search("ldap://nosuch/dc=example?cn?sub?(uid=1)"), done);
            }
            route[done] { exit; }
            """, fileName: "d.cfg")
        let errors = loaded.diagnostics.filter { $0.severity == .error }.map(\.description)
        #expect(loaded.server == nil)
        #expect(errors.contains { $0.hasPrefix("d.cfg:6:5: ") && $0.contains("db_url") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("d.cfg:7:23: ") && $0.contains("'nosuch'") }, "\(errors)")
    }

    @Test("error_route runs for a request that fails to parse (it answers, launch() works); local_route runs on the CANCEL sent to a branch")
    func errorAndLocalRoutesRun() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                \(Self.keyProbe)
                if (is_method("CANCEL")) { t_relay(); exit; }
                $du = "sip:127.0.0.1:\(uas.port)";
                t_relay();
            }
            error_route {
                launch(exec("printf bad", "", $var(o)), reported, "error");
                sl_send_reply(400, "seen by error_route");
                exit;
            }
            local_route {
                append_hf("X-Local: $rm\\r\\n");
                launch(exec("printf local", "", $var(o)), reported, "local");
            }
            route[reported] {
                cache_store("local", "$param(1)", "rc=$rc o=$var(o)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        let good = String(decoding: client.request("MESSAGE", branch: "z9hG4bK-err-1", callID: "err-1"), as: UTF8.self)
        let bad = good.replacingOccurrences(of: "CSeq: 1 MESSAGE", with: "CSeq: 1 INVITE")
        try client.send(Array(bad.utf8))
        let reply = client.waitFor(timeout: 2) { $0 >= 200 }.match
        #expect(reply?.statusCode == 400)
        #expect(reply?.reasonPhrase == "seen by error_route")
        #expect(try Self.fetched(client, key: "error", tag: "err-e") == "rc=1 o=bad")

        try client.send(client.request("INVITE", branch: "z9hG4bK-loc-1", callID: "loc-1"))
        let (invite, peer) = try #require(uas.receive(timeout: 2))
        try uas.reply(to: invite, from: peer, status: 180)
        #expect(client.waitFor(timeout: 2) { $0 == 180 }.match != nil)
        try client.send(client.request("CANCEL", branch: "z9hG4bK-loc-1", callID: "loc-1"))
        let (cancel, _) = try #require(uas.receive(timeout: 2))
        #expect(cancel.method == .cancel)
        #expect(cancel.header(.other("X-Local")) == "CANCEL")
        #expect(try Self.fetched(client, key: "local", tag: "loc-l") == "rc=1 o=local")
    }

    @Test("Output variables $du and $ru are written (async and synchronous calls); the message goes where they say")
    func messageVariablesAsOutputs() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(exec("printf sip:127.0.0.1:\(uas.port)", "", $du), relay);
            }
            route[relay] {
                exec("printf sip:carol@example.net", "", $ru);
                t_relay();
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("MESSAGE", branch: "z9hG4bK-out-1", callID: "out-1"))
        let (request, _) = try #require(uas.receive(timeout: 3))
        #expect(request.requestURIText == "sip:carol@example.net")
    }
}
