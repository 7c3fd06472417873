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

/// `lookup()` with several UDP sockets: each contact's branch leaves from the socket its REGISTER came in on.
@Suite struct LookupBranchSocketTests {
    private func register(_ phone: SIPTestServer, to port: UInt16, q: String, callID: String) throws {
        let bytes = Array("""
            REGISTER sip:127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(phone.port);branch=z9hG4bK-\(callID)\r
            From: <sip:alice@example.com>;tag=r1\r
            To: <sip:alice@example.com>\r
            Call-ID: \(callID)\r
            CSeq: 1 REGISTER\r
            Max-Forwards: 70\r
            Contact: <sip:alice@127.0.0.1:\(phone.port)>;q=\(q)\r
            Expires: 300\r
            Content-Length: 0\r
            \r

            """.utf8)
        _ = try phone.socket.send(bytes, to: SocketAddress(ip: "127.0.0.1", port: port)!)
        let (reply, _) = try #require(phone.receive(timeout: 5), "no reply to the REGISTER")
        #expect(reply.statusCode == 200)
    }

    @Test("Two contacts registered on two UDP sockets: the INVITE reaches each from the socket it registered on")
    func contactsLeaveFromTheirSockets() throws {
        let near = try SIPTestServer(), far = try SIPTestServer()
        let second = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("REGISTER")) { save("location"); exit; }
                if (!lookup("location")) { sl_send_reply(404, "Not Here"); exit; }
                t_relay();
            }
            """, globals: """
            socket = udp:127.0.0.1:\(second)
            loadmodule "registrar.so"
            loadmodule "usrloc.so"
            """)
        // The higher q is the Request-URI branch (registered on the main socket), the other a branch.
        try register(near, to: proxy.port, q: "1.0", callID: "lookup-socket-reg-1")
        try register(far, to: second, q: "0.5", callID: "lookup-socket-reg-2")
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", uri: "sip:alice@example.com", branch: "z9hG4bK-lookup-socket",
                                       callID: "lookup-socket"))
        let (toNear, fromNear) = try #require(near.receive(timeout: 5), "the R-URI contact got the INVITE")
        let (toFar, fromFar) = try #require(far.receive(timeout: 5), "the branch contact got the INVITE")
        #expect(toNear.method == .invite && toFar.method == .invite)
        #expect(fromNear.port == proxy.port)
        #expect(fromFar.port == second)
        try near.reply(to: toNear, from: fromNear, status: 486)
        try far.reply(to: toFar, from: fromFar, status: 486)
    }
}
