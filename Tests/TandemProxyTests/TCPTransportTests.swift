import Foundation
import Glibc
import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
import Testing
@testable import TandemProxy

/// TCP on real loopback sockets: accept, framing, keep-alives, limits and timeouts, replies on the
/// connection the request came on, relaying between UDP and TCP with double Record-Route.
@Suite(.serialized)
struct TCPTransportTests {
    static let answerRoutes = """
        route {
            append_to_reply("X-Proto: $proto\\r\\nX-Source: $si:$sp\\r\\nX-Socket: $socket_in\\r\\nX-Received: $Ri:$Rp\\r\\n");
            sl_send_reply(200, "OK");
        }
        """
    static let textops = "loadmodule \"textops.so\"\n"

    /// Waits (bounded) until `condition` holds.
    static func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test("a request over TCP is answered on its connection; $proto, $si, $sp, $socket_in say so")
    func answersOnConnection() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops, tcp: true)
        let peer = try TCPTestPeer(connectingTo: proxy.port)
        peer.send(tcpRequest("OPTIONS", port: peer.localPort, branch: "z9hG4bK-tcp-1", callID: "tcp-1"))
        let reply = try #require(peer.receive(timeout: 5))
        #expect(reply.statusCode == 200)
        #expect(reply.header(HeaderName("X-Proto")) == "tcp")
        #expect(reply.header(HeaderName("X-Source")) == "127.0.0.1:\(peer.localPort)")
        #expect(reply.header(HeaderName("X-Socket")) == "tcp:127.0.0.1:\(proxy.port)")
        #expect(reply.header(HeaderName("X-Received")) == "127.0.0.1:\(proxy.port)")
        // The same connection serves the next request; several in one write come out in order.
        peer.send(tcpRequest("OPTIONS", port: peer.localPort, branch: "z9hG4bK-tcp-2", callID: "tcp-2")
                  + tcpRequest("OPTIONS", port: peer.localPort, branch: "z9hG4bK-tcp-3", callID: "tcp-3"))
        #expect(peer.receive(timeout: 5)?.callID == "tcp-2")
        #expect(peer.receive(timeout: 5)?.callID == "tcp-3")
        #expect(proxy.core.streams.counters.accepted.load(ordering: .relaxed) == 1)
        let stats = proxy.core.streams.snapshot()
        #expect(stats["open"] == 1 && stats["accepted"] == 1 && stats["refused"] == 0)
        #expect((stats["bytes_in"] ?? 0) > 0 && (stats["bytes_out"] ?? 0) > 0)
        // UDP on the same port still answers, and says udp.
        let udp = try SIPTestClient(proxyPort: proxy.port)
        try udp.send(udp.request("OPTIONS", branch: "z9hG4bK-udp-1", callID: "udp-1"))
        #expect(udp.receive(timeout: 5)?.header(HeaderName("X-Proto")) == "udp")
    }

    @Test("IPv6: socket=tcp:[::1]:PORT beside an IPv4 one; a request over it is answered on its connection")
    func ipv6() throws {
        let port = Ports.free()
        let proxy = try ScriptedProxy(routes: Self.answerRoutes,
                                      globals: Self.textops + "socket = tcp:[::1]:\(port)\n", tcp: true)
        #expect(proxy.core.settings.tcpListen.count == 2)
        let peer = try TCPTestPeer(connectingTo: port, ip: "::1")
        peer.send(tcpRequest("OPTIONS", port: peer.localPort, branch: "z9hG4bK-v6", callID: "v6"))
        let reply = try #require(peer.receive(timeout: 5))
        #expect(reply.statusCode == 200)
        #expect(reply.header(HeaderName("X-Socket")) == "tcp:[::1]:\(port)")
    }

    @Test("a CRLFCRLF keep-alive is answered with CRLF (RFC 5626 §3.5.1)")
    func keepAlive() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops, tcp: true)
        let peer = try TCPTestPeer(connectingTo: proxy.port)
        peer.send("\r\n\r\n")
        #expect(peer.waitForPong(timeout: 5))
        #expect(proxy.core.streams.counters.pings.load(ordering: .relaxed) == 1)
    }

    @Test("no Content-Length: 400 then close; the proxy keeps serving others")
    func missingContentLength() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops, tcp: true)
        let bad = try TCPTestPeer(connectingTo: proxy.port)
        bad.send("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:\(bad.localPort);branch=z9hG4bK-nocl\r\n"
                 + "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: nocl\r\nCSeq: 1 OPTIONS\r\n\r\n")
        let reply = try #require(bad.receive(timeout: 5))
        #expect(reply.statusCode == 400)
        #expect(bad.waitForClose(timeout: 5))
        let good = try TCPTestPeer(connectingTo: proxy.port)
        good.send(tcpRequest("OPTIONS", port: good.localPort, branch: "z9hG4bK-good", callID: "good"))
        #expect(good.receive(timeout: 5)?.statusCode == 200)
    }

    @Test("garbage after a valid message: the message is answered, then the connection closes")
    func garbageAfterMessage() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops, tcp: true)
        let peer = try TCPTestPeer(connectingTo: proxy.port)
        peer.send(tcpRequest("OPTIONS", port: peer.localPort, branch: "z9hG4bK-g", callID: "garbage") + "\u{0}\u{7f}junk junk")
        #expect(peer.receive(timeout: 5)?.callID == "garbage")
        #expect(peer.waitForClose(timeout: 5))
        #expect(proxy.core.streams.counters.framingErrors.load(ordering: .relaxed) == 1)
        // The proxy keeps serving; the closed connection left nothing behind.
        let next = try TCPTestPeer(connectingTo: proxy.port)
        next.send(tcpRequest("OPTIONS", port: next.localPort, branch: "z9hG4bK-g2", callID: "after-garbage"))
        #expect(next.receive(timeout: 5)?.statusCode == 200)
        #expect(Self.eventually(5) { proxy.core.streams.connectionCount == 1 })
        #expect(Self.eventually(5) { tcpSockets(localPort: proxy.port) == 1 })
    }

    @Test("a 70 KB message is framed and answered (default tcp_max_msg_size 131072)")
    func largeMessage() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops, tcp: true)
        let peer = try TCPTestPeer(connectingTo: proxy.port)
        let body = String(repeating: "x", count: 70_000)
        peer.send(tcpRequest("MESSAGE", port: peer.localPort, branch: "z9hG4bK-big", callID: "big",
                             extraHeaders: "Content-Type: text/plain\r\n", body: body))
        #expect(peer.receive(timeout: 10)?.statusCode == 200)
    }

    @Test("a 70 KB request relayed from a TCP caller to a TCP callee arrives whole; its reply comes back")
    func largeMessageRelayed() throws {
        let callee = try TCPTestListener()
        let proxy = try ScriptedProxy(routes: """
            route { $du = "sip:127.0.0.1:\(callee.port);transport=tcp"; t_relay(); }
            """, tcp: true)
        let peer = try TCPTestPeer(connectingTo: proxy.port)
        let body = String(repeating: "y", count: 70_000)
        peer.send(tcpRequest("MESSAGE", port: peer.localPort, branch: "z9hG4bK-bigr", callID: "big-relayed",
                             extraHeaders: "Content-Type: text/plain\r\n", body: body))
        let connection = try #require(callee.accept(timeout: 5))
        let request = try #require(connection.receive(timeout: 10))
        #expect(request.callID == "big-relayed")
        #expect(request.body.count == 70_000)
        connection.send(SIPMessage.makeResponse(to: request, status: 200, reason: nil, toTag: "big"))
        #expect(peer.receive(timeout: 5)?.statusCode == 200)
    }

    @Test("half-message stallers are closed after tcp_max_msg_time; a peer closing mid-message is dropped; others are served; fds return")
    func stallersAndHalfCloses() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops + "tcp_max_msg_time = 1", tcp: true)
        var stallers: [TCPTestPeer] = []
        for index in 0..<500 {
            let peer = try TCPTestPeer(connectingTo: proxy.port)
            peer.send("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:\(peer.localPort);branch=z9hG4bK-s\(index)\r\n")
            stallers.append(peer)
        }
        do {
            let quitter = try TCPTestPeer(connectingTo: proxy.port)
            quitter.send("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nContent-Length: 100\r\n\r\nv=0")
        }
        // Meanwhile another peer is served at once.
        let good = try TCPTestPeer(connectingTo: proxy.port)
        good.send(tcpRequest("OPTIONS", port: good.localPort, branch: "z9hG4bK-live", callID: "live"))
        #expect(good.receive(timeout: 5)?.statusCode == 200)
        for peer in stallers { #expect(peer.waitForClose(timeout: 10)) }
        #expect(proxy.core.streams.counters.messageTimeouts.load(ordering: .relaxed) == 500)
        stallers = []
        withExtendedLifetime(good) {
            #expect(Self.eventually(5) { proxy.core.streams.connectionCount == 1 })
            #expect(Self.eventually(5) { tcpSockets(localPort: proxy.port) == 1 },
                    "the proxy closed every staller's socket; only the live peer's is open (\(tcpSockets(localPort: proxy.port)))")
        }
    }

    @Test("tcp_max_connections: connections past it are refused and counted")
    func maxConnections() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops + "tcp_max_connections = 5", tcp: true)
        var peers: [TCPTestPeer] = []
        for _ in 0..<8 { peers.append(try TCPTestPeer(connectingTo: proxy.port)) }
        #expect(Self.eventually { proxy.core.streams.counters.refused.load(ordering: .relaxed) == 3 })
        #expect(proxy.core.streams.connectionCount == 5)
        let closed = peers.filter { $0.waitForClose(timeout: 0.5) }.count
        #expect(closed == 3)
        peers = []
        #expect(Self.eventually { proxy.core.streams.connectionCount == 0 })
        let again = try TCPTestPeer(connectingTo: proxy.port)
        again.send(tcpRequest("OPTIONS", port: again.localPort, branch: "z9hG4bK-again", callID: "again"))
        #expect(again.receive(timeout: 5)?.statusCode == 200, "room again once peers left")
    }

    @Test("UDP caller to TCP callee and back: Via says TCP, double Record-Route, replies cross back; in-dialog BYE crosses too")
    func udpToTCPBridge() throws {
        let callee = try TCPTestListener()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (has_totag()) {
                    if (loose_route()) { t_relay(); exit; }
                    sl_send_reply(404, "Not Here");
                    exit;
                }
                record_route();
                $du = "sip:127.0.0.1:\(callee.port);transport=tcp";
                t_relay();
            }
            """, tcp: true)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", uri: "sip:bob@127.0.0.1:\(callee.port)", branch: "z9hG4bK-br-1",
                                       callID: "bridge-1"))
        let connection = try #require(callee.accept(timeout: 5), "the proxy connects to the TCP callee")
        let invite = try #require(connection.receive(timeout: 5))
        let via = try invite.topVia()
        #expect(via.transport.uppercased() == "TCP")
        #expect(via.port == proxy.port)
        let recordRoutes = invite.headerValues(.recordRoute)
        #expect(recordRoutes == ["<sip:127.0.0.1:\(proxy.port);transport=tcp;lr>", "<sip:127.0.0.1:\(proxy.port);lr>"])
        // The callee answers on the same connection.
        // A UAS copies the Record-Route set into its 2xx (RFC 3261 §12.1.1).
        connection.send(SIPMessage.makeResponse(to: invite, status: 200, reason: nil, toTag: "callee", extraHeaders: [
            (.contact, "<sip:bob@127.0.0.1:\(callee.port);transport=tcp>"),
        ] + recordRoutes.map { (HeaderName.recordRoute, $0) }))
        let final = caller.waitFor(timeout: 5) { $0 >= 200 }
        #expect(final.match?.statusCode == 200)
        #expect(final.match?.headerValues(.recordRoute).count == 2)
        // In-dialog BYE from the caller, routed by the two Route headers, reaches the callee over TCP.
        let bye = caller.request("BYE", uri: "sip:bob@127.0.0.1:\(callee.port);transport=tcp", branch: "z9hG4bK-br-2",
                                 callID: "bridge-1", cseq: 2,
                                 extraHeaders: "Route: <sip:127.0.0.1:\(proxy.port);lr>,<sip:127.0.0.1:\(proxy.port);transport=tcp;lr>\r\n")
        let byeText = String(decoding: bye, as: UTF8.self).replacingOccurrences(of: "To: <sip:bob@127.0.0.1:\(callee.port);transport=tcp>",
                                                                               with: "To: <sip:bob@127.0.0.1:\(callee.port)>;tag=callee")
        try caller.send(Array(byeText.utf8))
        let forwarded = try #require(connection.receive(timeout: 5), "the BYE reuses the pooled connection")
        #expect(forwarded.method == .bye)
        #expect(forwarded.headerValues(.route).isEmpty)
        connection.send(SIPMessage.makeResponse(to: forwarded, status: 200, reason: nil, toTag: nil))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 200)
        #expect(proxy.core.streams.counters.connected.load(ordering: .relaxed) == 1)
    }

    @Test("TCP caller to UDP callee: the reply comes back on the caller's connection; no retransmission over TCP")
    func tcpToUDP() throws {
        let callee = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                record_route();
                t_relay("udp:127.0.0.1:\(callee.port)");
            }
            """, tcp: true)
        let caller = try TCPTestPeer(connectingTo: proxy.port)
        caller.send(tcpRequest("INVITE", uri: "sip:bob@127.0.0.1:\(callee.port)", port: caller.localPort,
                               branch: "z9hG4bK-tu-1", callID: "tcp-udp-1"))
        let trying = try #require(caller.receive(timeout: 5))
        #expect(trying.statusCode == 100)
        let (invite, from) = try #require(callee.receive(timeout: 5))
        #expect(try invite.topVia().transport.uppercased() == "UDP")
        #expect(invite.headerValues(.recordRoute) == ["<sip:127.0.0.1:\(proxy.port);lr>",
                                                      "<sip:127.0.0.1:\(proxy.port);transport=tcp;lr>"])
        try callee.reply(to: invite, from: from, status: 486)
        let final = try #require(caller.receive(timeout: 5))
        #expect(final.statusCode == 486)
        // The 486 is not retransmitted over the reliable upstream (Timer G off): nothing more comes.
        #expect(caller.receive(timeout: 1.5) == nil)
    }

    @Test("the caller's connection closed before the final reply: a new one goes to the Via's received address and sent-by port")
    func replyAfterConnectionClosed() throws {
        let callee = try SIPTestServer()
        let callerListener = try TCPTestListener()
        let proxy = try ScriptedProxy(routes: """
            route {
                t_relay("udp:127.0.0.1:\(callee.port)");
            }
            """, tcp: true)
        do {
            let caller = try TCPTestPeer(connectingTo: proxy.port)
            // sent-by names the caller's listening port, not the connection's ephemeral one.
            caller.send(tcpRequest("INVITE", uri: "sip:bob@127.0.0.1:\(callee.port)", port: callerListener.port,
                                   branch: "z9hG4bK-reopen", callID: "reopen"))
            #expect(caller.receive(timeout: 5)?.statusCode == 100)
        }
        #expect(Self.eventually { proxy.core.streams.connectionCount == 0 }, "the proxy saw the caller go")
        let (invite, from) = try #require(callee.receive(timeout: 5))
        try callee.reply(to: invite, from: from, status: 486)
        let reopened = try #require(callerListener.accept(timeout: 5), "the proxy connects to the sent-by port")
        #expect(reopened.receive(timeout: 5)?.statusCode == 486)
    }

    @Test("force_send_socket(\"tcp:IP:PORT\") sends a relayed request over TCP from that socket")
    func forceSendSocket() throws {
        let callee = try TCPTestListener()
        let port = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (!force_send_socket("tcp:127.0.0.1:\(port)")) { sl_send_reply(500, "No Socket"); exit; }
                t_relay("udp:127.0.0.1:\(callee.port)");
            }
            """, globals: "socket = tcp:127.0.0.1:\(port)\n")
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(callee.port)", branch: "z9hG4bK-fss",
                                       callID: "force-socket"))
        let connection = try #require(callee.accept(timeout: 5))
        let request = try #require(connection.receive(timeout: 5))
        let via = try request.topVia()
        #expect(via.transport.uppercased() == "TCP")
        #expect(via.port == port)
        connection.send(SIPMessage.makeResponse(to: request, status: 200, reason: nil, toTag: "fss"))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 200)
    }

    @Test("a UDP request larger than udp_mtu (1300) for a next hop without transport goes over TCP; a small one stays on UDP")
    func largeRequestSwitchesToTCP() throws {
        let callee = try TCPTestListener()
        let udpCallee = try SIPTestServer(port: callee.port)
        let proxy = try ScriptedProxy(routes: """
            route {
                t_relay("127.0.0.1:\(callee.port)");
            }
            """, tcp: true)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(callee.port)", branch: "z9hG4bK-small",
                                       callID: "small"))
        let (small, _) = try #require(udpCallee.receive(timeout: 5), "a small request stays on UDP")
        #expect(small.callID == "small")
        let pad = String(repeating: "p", count: 1_400)
        try caller.send(caller.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(callee.port)", branch: "z9hG4bK-large",
                                       callID: "large", extraHeaders: "X-Pad: \(pad)\r\n"))
        let connection = try #require(callee.accept(timeout: 5), "a large request goes over TCP")
        let large = try #require(connection.receive(timeout: 5))
        #expect(large.callID == "large")
        #expect(try large.topVia().transport.uppercased() == "TCP")
    }

    @Test("a client registered over TCP gets its calls on the connection it registered on")
    func registeredClientReusesConnection() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("REGISTER")) { save("location"); exit; }
                if (!lookup("location")) { t_reply(404, "Not Found"); exit; }
                t_relay();
            }
            """, globals: "loadmodule \"registrar.so\"\nloadmodule \"usrloc.so\"\n", tcp: true)
        let phone = try TCPTestPeer(connectingTo: proxy.port)
        // The Contact names a port nothing listens on: only the registration's connection reaches the phone.
        phone.send(tcpRequest("REGISTER", uri: "sip:127.0.0.1", port: phone.localPort, branch: "z9hG4bK-reg",
                              callID: "reg-1", extraHeaders: "Expires: 300\r\n")
                   .replacingOccurrences(of: "To: <sip:127.0.0.1>", with: "To: <sip:alice@example.com>")
                   .replacingOccurrences(of: "Contact: <sip:alice@127.0.0.1:\(phone.localPort);transport=tcp>",
                                         with: "Contact: <sip:alice@127.0.0.1:9;transport=tcp>"))
        #expect(phone.receive(timeout: 5)?.statusCode == 200)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", uri: "sip:alice@example.com", branch: "z9hG4bK-call-alice",
                                       callID: "call-alice"))
        var invite: SIPMessage?
        while let message = phone.receive(timeout: 5) {
            if message.method == .invite { invite = message; break }
        }
        let received = try #require(invite, "the INVITE comes on the registration's connection")
        #expect(received.requestURIText == "sip:alice@127.0.0.1:9;transport=tcp")
        #expect(proxy.core.streams.counters.connected.load(ordering: .relaxed) == 0, "no new connection")
    }

    @Test("tcp_accept_aliases: a Via alias makes the connection reusable for requests to the sent-by address (RFC 5923)")
    func viaAlias() throws {
        let aliasPort = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("OPTIONS")) { sl_send_reply(200, "OK"); exit; }
                t_relay("tcp:127.0.0.1:\(aliasPort)");
            }
            """, globals: "tcp_accept_aliases = yes\n", tcp: true)
        let neighbour = try TCPTestPeer(connectingTo: proxy.port)
        neighbour.send(tcpRequest("OPTIONS", port: aliasPort, branch: "z9hG4bK-alias", callID: "alias-1")
                       .replacingOccurrences(of: "branch=z9hG4bK-alias", with: "branch=z9hG4bK-alias;alias"))
        #expect(neighbour.receive(timeout: 5)?.statusCode == 200)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("MESSAGE", uri: "sip:bob@127.0.0.1:\(aliasPort)", branch: "z9hG4bK-to-alias",
                                       callID: "to-alias"))
        let forwarded = try #require(neighbour.receive(timeout: 5), "the request reuses the aliased connection")
        #expect(forwarded.callID == "to-alias")
        #expect(proxy.core.streams.counters.connected.load(ordering: .relaxed) == 0)
    }

    @Test("a tls socket without proto_tls/tls_mgm is refused with a clear message")
    func tlsWithoutModulesRefused() {
        #expect(throws: (any Error).self) {
            _ = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops + "socket = tls:127.0.0.1:\(Ports.free())")
        }
        do {
            _ = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops + "socket = tls:127.0.0.1:\(Ports.free())")
        } catch {
            #expect("\(error)".contains("a tls socket needs loadmodule \"proto_tls.so\" and \"tls_mgm.so\""))
        }
    }
}
