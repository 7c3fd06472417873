import Foundation
import Glibc
import SIPCore
import Synchronization
import Testing
@testable import TandemProxy

/// async() and launch() semantics, over real UDP against the running proxy.
@Suite(.serialized)
struct AsyncScriptTests {
    static let modules = """
        loadmodule "cfgutils.so"
        loadmodule "exec.so"
        loadmodule "cachedb_local.so"
        loadmodule "textops.so"
        """

    @Test("async() halts the script; the resume route sees $rc, AVPs, message changes and outputs, not $var")
    func resumeSeesPreservedState() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                $avp(a) = "one";
                $var(v) = "set";
                $du = "sip:127.0.0.1:9";
                append_hf("X-Test: yes\\r\\n");
                route(start);
                t_reply(500, "code after async ran");
            }
            route[start] {
                async(exec("printf hi", "", $var(out)), resume);
                t_reply(500, "code after async in a sub-route ran");
            }
            route[resume] {
                t_reply(299, "rc=$rc a=$avp(a) v=$var(v) du=$du x=$hdr(X-Test) out=$var(out)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-async-1", callID: "async-1"))
        let (reply, seen) = client.waitFor(timeout: 5) { $0 >= 200 }
        #expect(seen.first == 100)
        #expect(reply?.statusCode == 299)
        #expect(reply?.reasonPhrase == "rc=1 a=one v=<null> du=sip:127.0.0.1:9 x=yes out=hi")
    }

    @Test("A retransmission while suspended gets 100 Trying and never runs the script again")
    func retransmissionWhileSuspended() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(usleep(400000), resume);
            }
            route[resume] {
                t_reply(299, "resumed");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        let invite = client.request("INVITE", branch: "z9hG4bK-async-2", callID: "async-2")
        try client.send(invite)
        #expect(client.receive(timeout: 2)?.statusCode == 100)
        try client.send(invite)
        #expect(client.receive(timeout: 2)?.statusCode == 100)
        let (reply, _) = client.waitFor(timeout: 3) { $0 >= 200 }
        #expect(reply?.statusCode == 299)
        #expect(client.receive(timeout: 0.3) == nil, "only one final reply")
        #expect(proxy.core.counters.retransmissionsAbsorbed.load(ordering: .relaxed) >= 1)
        #expect(proxy.core.counters.serverTransactionsCreated.load(ordering: .relaxed) == 1)
    }

    @Test("Timeout (integer, or decimal in a variable): the resume route runs with $rc = -3 when the operation outlives it")
    func timeoutGivesMinusThree() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                $var(t) = "0.5";
                if (is_method("INVITE")) { async(sleep(10), resume, 1); }
                async(sleep(10), resume, $var(t));
            }
            route[resume] {
                t_reply(299, "rc=$rc");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        let started = Date()
        try client.send(client.request("INVITE", branch: "z9hG4bK-async-3", callID: "async-3"))
        let (reply, _) = client.waitFor(timeout: 5) { $0 >= 200 }
        #expect(reply?.reasonPhrase == "rc=-3")
        #expect(Date().timeIntervalSince(started) < 3)
        // A decimal timeout held in a variable.
        let second = Date()
        try client.send(client.request("MESSAGE", branch: "z9hG4bK-async-3m", callID: "async-3m"))
        let (message, _) = client.waitFor(timeout: 5) { $0 >= 200 }
        #expect(message?.reasonPhrase == "rc=-3")
        let elapsed = Date().timeIntervalSince(second)
        #expect(elapsed >= 0.45 && elapsed < 1.5, "decimal timeout took \(elapsed) s")
    }

    @Test("CANCEL while suspended: 200 and 487 at once, the operation is cancelled, the resume route still runs and its t_relay fails")
    func cancelWhileSuspended() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("OPTIONS")) {
                    if (cache_fetch("local", "resumed", $var(r))) { sl_send_reply(299, "$var(r)"); exit; }
                    sl_send_reply(404, "not yet");
                    exit;
                }
                $du = "sip:127.0.0.1:9";
                async(sleep(5), resume);
            }
            route[resume] {
                $var(rc) = $rc;  # the async call's code; after t_relay $rc is t_relay's (-3: cancelled)
                if (t_relay()) { $var(t) = "relayed"; } else { $var(t) = "relay-failed $rc"; }
                cache_store("local", "resumed", "rc=$var(rc) $var(t)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        let invite = client.request("INVITE", branch: "z9hG4bK-async-4", callID: "async-4")
        try client.send(invite)
        #expect(client.receive(timeout: 2)?.statusCode == 100)
        let started = Date()
        try client.send(client.request("CANCEL", branch: "z9hG4bK-async-4", callID: "async-4"))
        var statuses: [Int] = []
        while statuses.count < 2, let message = client.receive(timeout: 2) {
            if let status = message.statusCode { statuses.append(status) }
        }
        #expect(statuses.sorted() == [200, 487])
        #expect(Date().timeIntervalSince(started) < 1)
        var answer: SIPMessage?
        for attempt in 0..<20 {
            try client.send(client.request("OPTIONS", branch: "z9hG4bK-async-4-o\(attempt)", callID: "async-4-o\(attempt)"))
            answer = client.waitFor(timeout: 1) { $0 >= 200 }.match
            if answer?.statusCode == 299 { break }
            usleep(100_000)
        }
        #expect(answer?.reasonPhrase == "rc=-1 relay-failed -3")
    }

    @Test("launch(): the script goes on at once; the report route runs later with $rc, outputs and $param(1)")
    func launchReportRoute() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("OPTIONS")) {
                    if (cache_fetch("local", "report", $var(r))) { sl_send_reply(299, "$var(r)"); exit; }
                    sl_send_reply(404, "not yet");
                    exit;
                }
                launch(exec("printf done", "", $var(o)), report, "call $ci");
                sl_send_reply(200, "launched");
            }
            route[report] {
                cache_store("local", "report", "rc=$rc o=$var(o) p=$param(1)");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("MESSAGE", branch: "z9hG4bK-async-5", callID: "async-5"))
        let first = client.waitFor(timeout: 2) { $0 >= 200 }.match
        #expect(first?.reasonPhrase == "launched")
        var answer: SIPMessage?
        for attempt in 0..<20 {
            try client.send(client.request("OPTIONS", branch: "z9hG4bK-async-5-o\(attempt)", callID: "async-5-o\(attempt)"))
            answer = client.waitFor(timeout: 1) { $0 >= 200 }.match
            if answer?.statusCode == 299 { break }
            usleep(100_000)
        }
        #expect(answer?.reasonPhrase == "rc=1 o=done p=call async-5")
    }

    @Test("async() in a failure_route: the best reply waits for the resume route, which can fork to a new branch")
    func asyncInFailureRoute() throws {
        let busy = try SIPTestServer()
        let ok = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                t_on_failure("retry");
                $du = "sip:127.0.0.1:\(busy.port)";
                t_relay();
            }
            failure_route[retry] {
                async(usleep(200000), next_hop);
            }
            route[next_hop] {
                $du = "sip:127.0.0.1:\(ok.port)";
                t_relay();
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-async-7", callID: "async-7"))
        let (first, firstPeer) = try #require(busy.receive(timeout: 2))
        try busy.reply(to: first, from: firstPeer, status: 486, reason: "Busy Here")
        let (second, secondPeer) = try #require(ok.receive(timeout: 3))
        try ok.reply(to: second, from: secondPeer, status: 200)
        let (reply, seen) = client.waitFor(timeout: 3) { $0 >= 200 }
        #expect(reply?.statusCode == 200)
        #expect(!seen.contains(486), "the 486 must not go upstream: \(seen)")
    }

    @Test("Chained async(): a second async() in a resume route keeps the first resume's $du and $rd")
    func chainedAsync() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(usleep(1000), first);
            }
            route[first] {
                $du = "sip:127.0.0.1:9";
                $rd = "example.net";
                async(usleep(1000), second);
            }
            route[second] {
                t_reply(299, "rc=$rc du=$du rd=$rd");
            }
            """, globals: Self.modules)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-async-6", callID: "async-6"))
        let reply = client.waitFor(timeout: 3) { $0 >= 200 }.match
        #expect(reply?.reasonPhrase == "rc=1 du=sip:127.0.0.1:9 rd=example.net")
    }
}
