import Reactor
import SIPCore
import TandemTestSupport
import Testing

/// Each forked branch leaves from its own send socket (issue 15): `force_send_socket()` before
/// `append_branch`, `$msg.branch.socket` / `$branch(socket)` of a branch, the Request-URI branch's
/// forced socket. Real UDP sockets; the callees see the source port.
@Suite struct BranchSocketTests {
    /// Sends an INVITE through `proxy` and returns what bob and carol received, with the source of each.
    private func fork(_ proxy: ScriptedProxy, bob: SIPTestServer, carol: SIPTestServer, callID: String) throws
        -> (bob: SocketAddress, carol: SocketAddress) {
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", uri: "sip:bob@127.0.0.1:\(bob.port)", branch: "z9hG4bK-\(callID)",
                                       callID: callID))
        let (toBob, fromBob) = try #require(bob.receive(timeout: 5), "bob got the INVITE")
        let (toCarol, fromCarol) = try #require(carol.receive(timeout: 5), "carol got the INVITE")
        #expect(toBob.requestURIText == "sip:bob@127.0.0.1:\(bob.port)")
        #expect(toCarol.requestURIText == "sip:carol@127.0.0.1:\(carol.port)")
        // Each Via names the socket its branch left from.
        #expect((try? toBob.topVia())?.port == fromBob.port)
        #expect((try? toCarol.topVia())?.port == fromCarol.port)
        try bob.reply(to: toBob, from: fromBob, status: 486)
        try carol.reply(to: toCarol, from: fromCarol, status: 486)
        return (fromBob, fromCarol)
    }

    @Test("force_send_socket before append_branch: the branch keeps that socket, the R-URI branch leaves from the next one forced")
    func appendBranchTakesForcedSocket() throws {
        let bob = try SIPTestServer(), carol = try SIPTestServer()
        let second = Ports.free(), third = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                force_send_socket("udp:127.0.0.1:\(second)");
                append_branch("sip:carol@127.0.0.1:\(carol.port)");
                force_send_socket("udp:127.0.0.1:\(third)");
                if ($(msg.branch.socket[1]) != "udp:127.0.0.1:\(second)") { sl_send_reply(500, "Wrong Socket"); exit; }
                t_relay();
            }
            """, globals: "socket = udp:127.0.0.1:\(second)\nsocket = udp:127.0.0.1:\(third)")
        let (fromBob, fromCarol) = try fork(proxy, bob: bob, carol: carol, callID: "branch-socket-1")
        #expect(fromCarol.port == second)
        #expect(fromBob.port == third)
    }

    @Test("$msg.branch.socket of an appended branch: that branch alone leaves from it")
    func assignedBranchSocket() throws {
        let bob = try SIPTestServer(), carol = try SIPTestServer()
        let second = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                append_branch("sip:carol@127.0.0.1:\(carol.port)");
                $(msg.branch.socket[1]) = "udp:127.0.0.1:\(second)";
                t_relay();
            }
            """, globals: "socket = udp:127.0.0.1:\(second)")
        let (fromBob, fromCarol) = try fork(proxy, bob: bob, carol: carol, callID: "branch-socket-2")
        #expect(fromCarol.port == second)
        #expect(fromBob.port == proxy.port)
    }

    @Test("An appended branch's socket that is not a listen socket is refused")
    func unknownBranchSocket() throws {
        let bob = try SIPTestServer(), carol = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                append_branch("sip:carol@127.0.0.1:\(carol.port)");
                $(msg.branch.socket[1]) = "udp:127.0.0.1:9";
                if ($(msg.branch.socket[1]) != NULL) { sl_send_reply(500, "Kept A Bad Socket"); exit; }
                t_relay();
            }
            """)
        let (fromBob, fromCarol) = try fork(proxy, bob: bob, carol: carol, callID: "branch-socket-3")
        #expect(fromCarol.port == proxy.port)
        #expect(fromBob.port == proxy.port)
    }
}
