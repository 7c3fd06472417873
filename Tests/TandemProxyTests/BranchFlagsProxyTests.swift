import Reactor
import SIPCore
import TandemTestSupport
import Testing
@testable import TandemProxy

/// Branch flags through the core (each forked branch keeps its own flags, seen by its branch route and
/// by the failure route of the branch that failed), serial forking with `serialize_branches`/
/// `next_branches`, and stateless `forward()` (issue 15), on the in-memory core.
@Suite struct BranchFlagsProxyTests {
    let uac = SIPPeer(port: 5070)
    let bob = SIPPeer(port: 5080)
    let carol = SIPPeer(port: 5090)
    let dave = SIPPeer(port: 5095)

    @Test("Each forked branch keeps its own flags: branch, reply and failure routes see (and set) them")
    func perBranchFlags() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                append_branch("sip:carol@127.0.0.1:5090");
                setbflag(BOB_F);
                setbflag(CAROL_F, 1);
                t_on_branch("br");
                t_on_reply("rep");
                t_on_failure("missed");
                t_relay();
            }
            branch_route[br] {
                append_hf("X-BF: $bf\\r\\n");
                if (isbflagset(CAROL_F)) { setbflag(SEEN_IN_BRANCH); }
            }
            onreply_route[rep] {
                if (isbflagset(CAROL_F)) { setbflag(REPLIED); }
            }
            failure_route[missed] {
                if (isbflagset(CAROL_F) && isbflagset(SEEN_IN_BRANCH) && isbflagset(REPLIED)) { t_reply(480, "Carol Failed"); exit; }
                if (isbflagset(BOB_F)) { t_reply(486, "Bob Failed"); exit; }
            }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        proxy.receive(uac.request("INVITE", uri: "sip:bob@127.0.0.1:5080", branch: "z9hG4bK-bf1", callID: "bf-1"),
                      from: uac.address)
        let sent = proxy.sent()
        let toBob = try #require(sent.first { $0.destination == bob.address })
        let toCarol = try #require(sent.first { $0.destination == carol.address })
        #expect(toBob.message.header(HeaderName("X-BF")) == "BOB_F")
        #expect(toCarol.message.header(HeaderName("X-BF")) == "CAROL_F")
        // Carol's 600-class would win; a 404 from carol and a 503 from bob: carol's (lower class) wins.
        proxy.receive(bob.response(to: toBob.message, status: 503), from: bob.address)
        _ = proxy.sent()
        proxy.receive(carol.response(to: toCarol.message, status: 404), from: carol.address)
        let final = try #require(proxy.sent().first { $0.status != nil && $0.destination == uac.address })
        #expect(final.status == 480)
        #expect(final.message.reasonPhrase == "Carol Failed")
    }

    @Test("append_branch(uri) copies the R-URI branch's flags and $du; append_branch() moves them and resets branch 0")
    func appendBranchCopiesAndResets() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                setbflag(BOB_F);
                $du = "sip:127.0.0.1:5095";
                append_branch("sip:carol@example.com");
                if (!isbflagset(BOB_F, 1) || $(msg.branch.duri[1]) != "sip:127.0.0.1:5095") { sl_send_reply(500, "Not Copied"); exit; }
                if (!isbflagset(BOB_F) || $du != "sip:127.0.0.1:5095") { sl_send_reply(500, "Main Changed"); exit; }
                append_branch();
                if (!isbflagset(BOB_F, 2) || $(msg.branch.duri[2]) != "sip:127.0.0.1:5095") { sl_send_reply(500, "Not Moved"); exit; }
                if (isbflagset(BOB_F) || $du != NULL) { sl_send_reply(500, "Not Reset"); exit; }
                sl_send_reply(200, "Checked");
            }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        proxy.receive(uac.request("OPTIONS", uri: "sip:bob@127.0.0.1:5080", branch: "z9hG4bK-bf0", callID: "bf-0"),
                      from: uac.address)
        let reply = try #require(proxy.sent().first { $0.status != nil })
        #expect(reply.status == 200)
        #expect(reply.message.reasonPhrase == "Checked")
    }

    @Test("$msg.branch adds a branch; its flag and attribute stay with it; index 0 is the Request-URI; t_relay forks to it")
    func messageBranchThroughTheCore() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                $msg.branch = "sip:carol@127.0.0.1:5090";
                $msg.branch.flag(CAROL_F) = 1;
                $msg.branch.attr(who) = "carol";
                if ($msg.branch.last_idx != 1 || $(msg.branch.attr(who)[1]) != "carol") { sl_send_reply(500, "Bad Branch"); exit; }
                if ($(msg.branch.uri[0]) != "sip:bob@127.0.0.1:5080" || $(msg.branch.uri[-1]) != "sip:carol@127.0.0.1:5090") {
                    sl_send_reply(500, "Bad Index"); exit;
                }
                t_on_branch("br");
                t_relay();
            }
            branch_route[br] { append_hf("X-BF: $bf\\r\\n"); }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        proxy.receive(uac.request("INVITE", uri: "sip:bob@127.0.0.1:5080", branch: "z9hG4bK-mb1", callID: "mb-1"),
                      from: uac.address)
        let sent = proxy.sent()
        #expect(!sent.contains { $0.status == 500 })
        let toCarol = try #require(sent.first { $0.destination == carol.address })
        let toBob = try #require(sent.first { $0.destination == bob.address })
        #expect(toCarol.message.header(HeaderName("X-BF")) == "CAROL_F")
        #expect(toBob.message.header(HeaderName("X-BF")) != "CAROL_F")
    }

    @Test("Branch flags set before save() are stored with the contact; lookup() restores them (3.6 flags doc)")
    func flagsThroughTheLocationTable() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                if (is_method("REGISTER")) { setbflag(NAT); save("location"); exit; }
                if (!lookup("location")) { t_reply(404, "Not Found"); exit; }
                t_on_branch("br");
                t_relay();
            }
            branch_route[br] { append_hf("X-BF: $bf\\r\\n"); }
            """, modules: "loadmodule \"registrar.so\"\nloadmodule \"usrloc.so\"")
        defer { memory.close() }
        let proxy = memory.proxy
        proxy.receive(bob.request("REGISTER", uri: "sip:bob@127.0.0.1", branch: "z9hG4bK-reg1", callID: "reg-1"),
                      from: bob.address)
        #expect(proxy.sent().last?.status == 200)
        proxy.receive(uac.request("INVITE", uri: "sip:bob@127.0.0.1", branch: "z9hG4bK-lk1", callID: "lk-1"),
                      from: uac.address)
        let toBob = try #require(proxy.sent().first { $0.destination == bob.address && $0.status == nil })
        #expect(toBob.message.header(HeaderName("X-BF")) == "NAT")
    }

    @Test("serialize_branches + next_branches: highest q alone first, then the equal-q group in parallel; codes 1, 2, -1")
    func serialForking() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                append_branch("sip:carol@127.0.0.1:5090", "0.5");
                append_branch("sip:dave@127.0.0.1:5095", "0.5");
                if (!serialize_branches(1)) { t_reply(500, "No Serialize"); exit; }
                if ($branch(count) != 0) { t_reply(500, "Not Cleared"); exit; }
                next_branches();
                if ($rc != 1) { t_reply(500, "Not One"); exit; }
                t_on_failure("next");
                t_relay();
            }
            failure_route[next] {
                # 3.6: 1 when more groups follow, 2 for the last group, false when none is left.
                next_branches();
                $var(code) = $rc;
                if ($var(code) == 2) { t_on_failure("next"); t_relay(); exit; }
                if ($var(code) > 0) { t_reply(500, "Not Two"); exit; }
                t_reply(480, "Nobody Left");
            }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        proxy.receive(uac.request("INVITE", uri: "sip:bob@127.0.0.1:5080", branch: "z9hG4bK-sf1", callID: "sf-1"),
                      from: uac.address)
        let first = proxy.sent()
        #expect(first.map(\.status) == [100, nil])
        let toBob = try #require(first.first { $0.destination == bob.address })
        proxy.receive(bob.response(to: toBob.message, status: 486), from: bob.address)
        let second = proxy.sent().filter { $0.method == .invite && $0.status == nil }
        #expect(Set(second.map(\.destination)) == [carol.address, dave.address])
        let toCarol = try #require(second.first { $0.destination == carol.address })
        let toDave = try #require(second.first { $0.destination == dave.address })
        #expect(toCarol.message.requestURIText == "sip:carol@127.0.0.1:5090")
        proxy.receive(carol.response(to: toCarol.message, status: 486), from: carol.address)
        _ = proxy.sent()
        proxy.receive(dave.response(to: toDave.message, status: 404), from: dave.address)
        let final = try #require(proxy.sent().first { $0.status != nil && $0.destination == uac.address })
        #expect(final.status == 480)
    }

    @Test("forward() relays statelessly: no 100 Trying, no transaction; the reply goes back along the Via")
    func statelessForward() throws {
        let memory = try ScriptedMemoryProxy("""
            route { if (!forward("sip:127.0.0.1:5080")) { sl_send_reply(500, "No Forward"); } }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        proxy.receive(uac.request("OPTIONS", uri: "sip:bob@example.com", branch: "z9hG4bK-fw1", callID: "fw-1"),
                      from: uac.address)
        let sent = proxy.sent()
        #expect(sent.count == 1)
        let out = try #require(sent.first)
        #expect(out.destination == bob.address)
        #expect(out.status == nil)
        #expect(out.message.requestURIText == "sip:bob@example.com")
        proxy.receive(bob.response(to: out.message, status: 200), from: bob.address)
        let back = proxy.sent()
        #expect(back.map(\.status) == [200])
        #expect(back.first?.destination == uac.address)
    }
}
