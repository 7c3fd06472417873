import Logging
import Reactor
import SIPCore
import TandemServer
import TandemTestSupport
import Testing
@testable import TandemProxy

/// A core built from a routing script and driven in memory (manual clock, captured datagrams).
struct ScriptedMemoryProxy {
    let proxy: InMemoryProxy
    let server: TandemServer

    init(_ body: String, modules: String = "") throws {
        let source = """
            log_level = 1
            udp_workers = 1
            socket = udp:127.0.0.1:5060
            loadmodule "tm.so"
            loadmodule "sl.so"
            loadmodule "rr.so"
            loadmodule "sipmsgops.so"
            \(modules)
            \(body)
            """
        var quiet = Logger(label: "test")
        quiet.logLevel = .error
        let loaded = TandemServer.load(source: source, fileName: "memory.cfg", logger: quiet)
        let server = try #require(loaded.server, "\(loaded.diagnostics)")
        self.server = server
        proxy = try InMemoryProxy(core: server.core)
        server.attachWorker(proxy.worker)
    }

    func close() { server.detachWorker(proxy.worker) }
}

/// Parallel forking (issue 16): `append_branch` and `t_relay()` to the Request-URI plus every branch at
/// once; best reply across branches (RFC 3261 §16.7), CANCEL of the others on a 2xx or 6xx.
@Suite struct ParallelForkingTests {
    let uac = SIPPeer(port: 5070)
    let bob = SIPPeer(port: 5080)
    let carol = SIPPeer(port: 5090)

    static let forkScript = """
        route {
            $var(n) = $branch(count);
            append_branch("sip:carol@127.0.0.1:5090", "0.5");
            if ($branch(uri)[0] != "sip:carol@127.0.0.1:5090" || $branch(q) != "0.5") { t_reply(500, "Bad Branch"); exit; }
            t_on_failure("missed");
            t_relay();
        }
        failure_route[missed] {
            append_hf("X-Winner: $T_reply_code\\r\\n");
            if (t_check_status("486")) { t_reply(480, "Everyone Busy"); }
        }
        """

    /// Sends an INVITE to bob; returns the two forked copies (bob's, carol's) after the 100.
    func fork(_ memory: ScriptedMemoryProxy, callID: String) throws -> (bob: SIPMessage, carol: SIPMessage) {
        memory.proxy.receive(uac.request("INVITE", uri: "sip:bob@127.0.0.1:5080", branch: "z9hG4bK-\(callID)",
                                         callID: callID), from: uac.address)
        let sent = memory.proxy.sent()
        #expect(sent.map(\.status) == [100, nil, nil])
        let toBob = try #require(sent.first { $0.destination == bob.address })
        let toCarol = try #require(sent.first { $0.destination == carol.address })
        #expect(toBob.message.requestURIText == "sip:bob@127.0.0.1:5080")
        #expect(toCarol.message.requestURIText == "sip:carol@127.0.0.1:5090")
        #expect((try? toBob.message.topVia())?.branch != (try? toCarol.message.topVia())?.branch)
        return (toBob.message, toCarol.message)
    }

    @Test("t_relay forks to the R-URI and the branch at once; a 2xx goes up and CANCELs the ringing branch")
    func twoXXCancelsOthers() throws {
        let memory = try ScriptedMemoryProxy(Self.forkScript)
        defer { memory.close() }
        let proxy = memory.proxy
        let (toBob, toCarol) = try fork(memory, callID: "fork-1")
        proxy.receive(carol.response(to: toCarol, status: 180), from: carol.address)
        #expect(proxy.sent().map(\.status) == [180])
        proxy.receive(bob.response(to: toBob, status: 200), from: bob.address)
        let sent = proxy.sent()
        let ok = try #require(sent.first { $0.status == 200 })
        #expect(ok.destination == uac.address)
        let cancel = try #require(sent.first { $0.method == .cancel && $0.status == nil })
        #expect(cancel.destination == carol.address)
        #expect((try? cancel.message.topVia())?.branch == (try? toCarol.topVia())?.branch)
        // Carol's 487 is absorbed (ACKed hop by hop), nothing more goes upstream.
        proxy.receive(carol.response(to: cancel.message, status: 200), from: carol.address)
        proxy.receive(carol.response(to: toCarol, status: 487), from: carol.address)
        let after = proxy.sent()
        #expect(after.allSatisfy { $0.destination == carol.address && $0.method == .ack }, "\(after.map(\.status))")
    }

    @Test("One busy (486), the other answers: the 200 goes upstream, not the 486")
    func busyAndAnswer() throws {
        let memory = try ScriptedMemoryProxy(Self.forkScript)
        defer { memory.close() }
        let proxy = memory.proxy
        let (toBob, toCarol) = try fork(memory, callID: "fork-2")
        proxy.receive(bob.response(to: toBob, status: 486), from: bob.address)
        let afterBusy = proxy.sent()
        #expect(afterBusy.map(\.method) == [.ack])  // hop-by-hop ACK to bob only; carol still pending
        proxy.receive(carol.response(to: toCarol, status: 200), from: carol.address)
        let sent = proxy.sent()
        #expect(sent.map(\.status) == [200])
        #expect(sent.first?.destination == uac.address)
    }

    @Test("Both fail: failure_route sees the best reply (486 over 503) and replies 480")
    func bothFailBestReply() throws {
        let memory = try ScriptedMemoryProxy(Self.forkScript)
        defer { memory.close() }
        let proxy = memory.proxy
        let (toBob, toCarol) = try fork(memory, callID: "fork-3")
        proxy.receive(carol.response(to: toCarol, status: 503), from: carol.address)
        _ = proxy.sent()
        proxy.receive(bob.response(to: toBob, status: 486), from: bob.address)
        let sent = proxy.sent()
        let final = try #require(sent.first { $0.status != nil })
        #expect(final.status == 480)
        #expect(final.destination == uac.address)
    }

    @Test("Both fail without a failure route: the best reply (4xx over 5xx) goes upstream")
    func bestReplyWithoutFailureRoute() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                append_branch("sip:carol@127.0.0.1:5090");
                t_relay();
            }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        let (toBob, toCarol) = try fork(memory, callID: "fork-4")
        proxy.receive(bob.response(to: toBob, status: 503), from: bob.address)
        proxy.receive(carol.response(to: toCarol, status: 404), from: carol.address)
        let final = try #require(proxy.sent().first { $0.status != nil })
        #expect(final.status == 404)
    }

    @Test("A 6xx ends the search: the other ringing branch is CANCELled, the 603 goes upstream")
    func sixXXCancels() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                append_branch("sip:carol@127.0.0.1:5090");
                t_relay();
            }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        let (toBob, toCarol) = try fork(memory, callID: "fork-5")
        proxy.receive(carol.response(to: toCarol, status: 180), from: carol.address)
        _ = proxy.sent()
        proxy.receive(bob.response(to: toBob, status: 603), from: bob.address)
        let sent = proxy.sent()
        #expect(sent.contains { $0.method == .cancel && $0.status == nil && $0.destination == carol.address })
        #expect(!sent.contains { $0.status == 603 })  // waits for carol's outcome
        proxy.receive(carol.response(to: toCarol, status: 487), from: carol.address)
        let final = try #require(proxy.sent().first { $0.status != nil && $0.destination == uac.address })
        #expect(final.status == 603)
    }

    @Test("append_branch() with no argument takes the R-URI and $du; each branch keeps its own $du")
    func branchKeepsDestination() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                $du = "sip:127.0.0.1:5090";
                append_branch();
                $du = "sip:127.0.0.1:5080";
                $ru = "sip:dave@example.com";
                if ($branch(duri) != "sip:127.0.0.1:5090") { t_reply(500, "Bad Branch"); exit; }
                t_relay();
            }
            """)
        defer { memory.close() }
        let proxy = memory.proxy
        proxy.receive(uac.request("INVITE", uri: "sip:bob@example.com", branch: "z9hG4bK-fork-6", callID: "fork-6"),
                      from: uac.address)
        let sent = proxy.sent()
        #expect(sent.map(\.status) == [100, nil, nil])
        #expect(sent.contains { $0.destination == carol.address && $0.message.requestURIText == "sip:bob@example.com" })
        #expect(sent.contains { $0.destination == bob.address && $0.message.requestURIText == "sip:dave@example.com" })
    }

    @Test("tandem check knows append_branch, save, lookup, is_registered, remove and $branch")
    func checkerKnowsFunctions() throws {
        let memory = try ScriptedMemoryProxy("""
            route {
                if (is_method("REGISTER")) { save("location", "r", "sip:a@b"); exit; }
                if (registered("location") && is_registered("location", "sip:x@y")) { remove("location", "sip:x@y"); }
                if (lookup("location", "b")) { xlog("L_INFO", "$branch(uri)[1]\\n"); }
                append_branch("sip:a@127.0.0.1", "1");
                t_relay();
            }
            """, modules: "loadmodule \"registrar.so\"\nloadmodule \"usrloc.so\"")
        memory.close()
    }
}
