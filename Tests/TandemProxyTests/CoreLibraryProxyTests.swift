import Logging
import Reactor
import SIPCore
import TandemServer
import TandemTestSupport
import Testing
@testable import TandemProxy

/// The core function library of issue 15 through the real script engine and proxy core: in memory
/// with the manual clock for the timers, and once over real UDP.
@Suite struct CoreLibraryProxyTests {
    let uac = SIPPeer(port: 5070)
    let uas = SIPPeer(port: 5080)

    static let header = """
        log_level = 1
        udp_workers = 1
        socket = udp:127.0.0.1:5060
        loadmodule "tm.so"
        loadmodule "sl.so"
        loadmodule "textops.so"
        loadmodule "sipmsgops.so"

        """

    /// Loads `routes` into a server driving an in-memory proxy on the manual clock.
    func load(_ routes: String) throws -> (TandemServer, InMemoryProxy) {
        var quiet = Logger(label: "test")
        quiet.logLevel = .error
        let loaded = TandemServer.load(source: Self.header + routes, fileName: "corelib.cfg", logger: quiet)
        let server = try #require(loaded.server, "\(loaded.diagnostics)")
        let proxy = try InMemoryProxy(core: server.core)
        server.attachWorker(proxy.worker)
        return (server, proxy)
    }

    @Test("$T_fr_timeout = 2 makes that transaction's Timer B 2 s; the failure route sees a local 408")
    func frTimeoutShortensTimerB() throws {
        let (server, proxy) = try load("""
            modparam("tm", "fr_timeout", 30)
            route {
                if (is_present_hf("X-Short")) { $T_fr_timeout = 2; }
                t_on_failure("timeout");
                t_relay();
            }
            failure_route[timeout] {
                if (t_was_cancelled()) { exit; }
                if (t_check_status("408") && t_local_replied("all") && t_local_replied("last")) {
                    t_reply(504, "Local timeout after $T_fr_timeout s");
                }
            }
            """)
        defer { server.detachWorker(proxy.worker) }
        let bob = "sip:bob@127.0.0.1:5080"
        proxy.receive(uac.request("INVITE", uri: bob, branch: "z9hG4bK-fr-1", callID: "fr-1",
                                  extraHeaders: "X-Short: 1\r\n"), from: uac.address)
        proxy.receive(uac.request("INVITE", uri: bob, branch: "z9hG4bK-fr-2", callID: "fr-2"), from: uac.address)
        #expect(proxy.sent().filter { $0.destination == uac.address }.map(\.status) == [100, 100])

        proxy.advance(byMilliseconds: 1_999)
        #expect(proxy.sent().allSatisfy { $0.destination == uas.address && $0.method == .invite })
        proxy.advance(byMilliseconds: 1)
        let finals = proxy.sent().filter { $0.destination == uac.address }
        #expect(finals.map(\.status) == [504])
        #expect(finals.first?.message.reasonPhrase == "Local timeout after 2 s")
        #expect(finals.first?.message.callID == "fr-1")

        // The other transaction keeps the modparam's 30 s (the 504 above is retransmitted meanwhile).
        proxy.advance(byMilliseconds: 27_999)
        #expect(!proxy.sent().contains { $0.destination == uac.address && $0.message.callID == "fr-2" })
        proxy.advance(byMilliseconds: 1)
        let late = proxy.sent().filter { $0.destination == uac.address && $0.message.callID == "fr-2" }
        #expect(late.map(\.status) == [504])
        #expect(late.first?.message.reasonPhrase == "Local timeout after 30 s")
    }

    @Test("A cancelled INVITE runs its failure route, where t_was_cancelled() is true; a relay there is refused")
    func cancelledTransactionRunsFailureRoute() throws {
        let (server, proxy) = try load("""
            route {
                t_on_failure("after");
                t_relay();
            }
            failure_route[after] {
                if (t_was_cancelled()) {
                    if (!t_relay("udp:127.0.0.1:5090")) { t_reply(487, "Cancelled, relay refused"); }
                    exit;
                }
                t_reply(500, "Not cancelled");
            }
            """)
        defer { server.detachWorker(proxy.worker) }
        let bob = "sip:bob@127.0.0.1:5080"
        proxy.receive(uac.request("INVITE", uri: bob, branch: "z9hG4bK-cx-1", callID: "cx-1"), from: uac.address)
        let forwarded = try #require(proxy.sent().first { $0.destination == uas.address }).message
        proxy.receive(uas.response(to: forwarded, status: 180), from: uas.address)
        _ = proxy.sent()
        proxy.receive(uac.request("CANCEL", uri: bob, branch: "z9hG4bK-cx-1", callID: "cx-1"), from: uac.address)
        let cancel = try #require(proxy.sent().first { $0.method == .cancel && $0.destination == uas.address })
        proxy.receive(uas.response(to: cancel.message, status: 200), from: uas.address)
        proxy.receive(uas.response(to: forwarded, status: 487), from: uas.address)
        let finals = proxy.sent().filter { $0.destination == uac.address }
        #expect(finals.map(\.status) == [487])
        #expect(finals.first?.message.reasonPhrase == "Cancelled, relay refused")
        #expect(!proxy.sent().contains { $0.destination.port == 5090 })
    }

    @Test("onreply_route: t_was_cancelled() turns true after the CANCEL; $T_fr_timeout is the transaction's")
    func replyRouteSeesCancelAndTimeout() throws {
        let (server, proxy) = try load("""
            route {
                $T_fr_timeout = 7;
                t_relay();
            }
            onreply_route {
                if (t_was_cancelled()) { append_hf("X-Cancelled: yes\\r\\n"); }
                if (t_local_replied("any")) { append_hf("X-Local: yes\\r\\n"); }
                append_hf("X-Fr: $T_fr_timeout\\r\\n");
            }
            """)
        defer { server.detachWorker(proxy.worker) }
        let bob = "sip:bob@127.0.0.1:5080"
        proxy.receive(uac.request("INVITE", uri: bob, branch: "z9hG4bK-rc-1", callID: "rc-1"), from: uac.address)
        let forwarded = try #require(proxy.sent().first { $0.destination == uas.address }).message
        proxy.receive(uas.response(to: forwarded, status: 180), from: uas.address)
        let ringing = try #require(proxy.sent().first { $0.status == 180 })
        #expect(ringing.message.header(.other("X-Cancelled")) == nil)
        #expect(ringing.message.header(.other("X-Fr")) == "7")
        proxy.receive(uac.request("CANCEL", uri: bob, branch: "z9hG4bK-rc-1", callID: "rc-1"), from: uac.address)
        _ = proxy.sent()
        proxy.receive(uas.response(to: forwarded, status: 487), from: uas.address)
        let terminated = try #require(proxy.sent().first { $0.status == 487 && $0.destination == uac.address })
        #expect(terminated.message.header(.other("X-Cancelled")) == "yes")
        #expect(terminated.message.header(.other("X-Local")) == nil)
    }

    @Test("$T_fr_inv_timeout = 3 makes Timer C 3 s: the branch is cancelled 3 s after its provisional")
    func frInvTimeoutDrivesTimerC() throws {
        let (server, proxy) = try load("""
            route {
                $T_fr_inv_timeout = 3;
                t_relay();
            }
            """)
        defer { server.detachWorker(proxy.worker) }
        proxy.receive(uac.request("INVITE", uri: "sip:bob@127.0.0.1:5080", branch: "z9hG4bK-frinv-1",
                                  callID: "frinv-1"), from: uac.address)
        let forwarded = try #require(proxy.sent().first { $0.destination == uas.address }).message
        proxy.receive(uas.response(to: forwarded, status: 180), from: uas.address)
        #expect(proxy.sent().map(\.status) == [180])
        proxy.advance(byMilliseconds: 2_999)
        #expect(!proxy.sent().contains { $0.method == .cancel })
        proxy.advance(byMilliseconds: 1)
        #expect(proxy.sent().contains { $0.method == .cancel && $0.destination == uas.address })
    }

    @Test("append_to_reply adds headers to sl_send_reply and t_reply replies; force_rport, rewritehostport and subst change what is relayed")
    func repliesAndRewrites() throws {
        let (server, proxy) = try load("""
            route {
                append_to_reply("X-Why: policy\\r\\nX-Count: $hdrcnt(Via)\\r\\n");
                if (is_method("OPTIONS")) { sl_send_reply(403, "Forbidden"); exit; }
                if (is_method("MESSAGE")) { t_reply(486, "Busy Here"); exit; }
                force_rport();
                rewritehostport("127.0.0.1:5080");
                subst('/^X-Secret: [a-z]*/X-Secret: hidden/');
                append_hf("X-Seen: $af $socket_in $ct.fields(uri)\\r\\n");
                t_relay();
            }
            """)
        defer { server.detachWorker(proxy.worker) }
        proxy.receive(uac.request("OPTIONS", uri: "sip:x@127.0.0.1", branch: "z9hG4bK-atr-1", callID: "atr-1"),
                      from: uac.address)
        let forbidden = try #require(proxy.sent().first)
        #expect(forbidden.status == 403)
        #expect(forbidden.message.header(.other("X-Why")) == "policy")
        #expect(forbidden.message.header(.other("X-Count")) == "1")

        proxy.receive(uac.request("MESSAGE", uri: "sip:x@127.0.0.1", branch: "z9hG4bK-atr-2", callID: "atr-2"),
                      from: uac.address)
        let busy = try #require(proxy.sent().first { $0.status == 486 })
        #expect(busy.message.header(.other("X-Why")) == "policy")

        proxy.receive(uac.request("INVITE", uri: "sip:bob@127.0.0.1:5999", branch: "z9hG4bK-rw-1", callID: "rw-1",
                                  extraHeaders: "X-Secret: abc\r\n"), from: uac.address)
        let sent = proxy.sent()
        let trying = try #require(sent.first { $0.status == 100 })
        #expect(trying.message.header(.other("X-Why")) == nil)  // only replies the script sends
        let forwarded = try #require(sent.first { $0.status == nil && $0.method == .invite }, "\(sent.map(\.status))")
        #expect(forwarded.destination == uas.address)
        #expect(forwarded.message.requestURIText == "sip:bob@127.0.0.1:5080")
        #expect(forwarded.message.header(.other("X-Secret")) == "hidden")
        #expect(forwarded.message.header(.other("X-Seen")) == "INET udp:127.0.0.1:5060 sip:alice@127.0.0.1:5070")
        let clientVia = try #require(try forwarded.message.vias().dropFirst().first)
        #expect(clientVia.rport == .value(5070))
        #expect(clientVia.received == "127.0.0.1")
    }
}

/// The message-changing functions over real UDP sockets through a running server.
@Suite struct CoreLibraryUDPTests {
    @Test("Over UDP: rewritehost and rewriteport send the INVITE to the UAS, subst rewrites a header, append_to_reply marks the 404 sent by sl_send_reply")
    func rewriteSubstAndAppendToReply() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                if ($rU == "nobody") {
                    append_to_reply("X-Lookup: none\\r\\n");
                    sl_send_reply(404, "Not Found");
                    exit;
                }
                rewritehost("127.0.0.1");
                rewriteport("\(uas.port)");
                subst('/^X-Topic: secret [a-z]+/X-Topic: redacted/');
                t_relay();
            }
            """, globals: "loadmodule \"textops.so\"")
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", uri: "sip:nobody@127.0.0.1:9", branch: "z9hG4bK-udp-cl-1",
                                       callID: "udp-cl-1"))
        let (notFound, _) = client.waitFor(timeout: 2) { $0 == 404 }
        #expect(notFound?.header(.other("X-Lookup")) == "none")

        try client.send(client.request("INVITE", uri: "sip:bob@192.0.2.1:5060", branch: "z9hG4bK-udp-cl-2",
                                       callID: "udp-cl-2", extraHeaders: "X-Topic: secret plans\r\n"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        #expect(request.requestURIText == "sip:bob@127.0.0.1:\(uas.port)")
        #expect(request.header(.other("X-Topic")) == "redacted")
        try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
        let (busy, _) = client.waitFor(timeout: 2) { $0 >= 200 }
        #expect(busy?.statusCode == 486)
    }
}
