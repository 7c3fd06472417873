import Foundation
import Glibc
import Logging
import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
import Testing
@testable import TandemProxy

/// TLS on real loopback sockets: `socket=tls:` served on the workers' reactors with the `tls_mgm`
/// certificates made by scripts/test-certs.sh at run time; an in-test TLS client (TLSTransport) and
/// Debian's stunnel4 in front of SIPp (which has no TLS) as peers.
@Suite(.serialized, .exclusiveLoad)
struct TLSStreamTests {
    static let answerRoutes = """
        route {
            append_to_reply("X-Proto: $proto\\r\\nX-Source: $si:$sp\\r\\nX-Socket: $socket_in\\r\\n");
            sl_send_reply(200, "OK");
        }
        """
    static let textops = "loadmodule \"textops.so\"\n"

    /// The default (unprefixed) `tls_mgm` domains: the test server certificate, the test CA for peers;
    /// client certificates asked for and verified, required only with `requireCertificate`.
    static func certificates(_ extra: String = "", requireCertificate: Bool = false) throws -> String {
        """
        modparam("tls_mgm", "certificate", "\(try TestCertificates.path("server.pem"))")
        modparam("tls_mgm", "private_key", "\(try TestCertificates.path("server.key"))")
        modparam("tls_mgm", "ca_list", "\(try TestCertificates.path("ca.pem"))")
        modparam("tls_mgm", "verify_cert", "1")
        modparam("tls_mgm", "require_cert", "\(requireCertificate ? 1 : 0)")
        \(extra)
        """
    }

    static func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        TCPTransportTests.eventually(seconds, condition)
    }

    @Test("a request over TLS (IPv4 and IPv6) is answered on its connection although its Via says TCP; $proto is tls")
    func answersOverTLS() throws {
        let v6Port = Ports.free()
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops + "socket = tls:[::1]:\(v6Port)\n",
                                      tls: try Self.certificates())
        #expect(proxy.core.settings.tlsListen.count == 2)
        for (ip, port, socket) in [("127.0.0.1", proxy.tlsPort, "tls:127.0.0.1:\(proxy.tlsPort)"),
                                   ("::1", v6Port, "tls:[::1]:\(v6Port)")] {
            let client = try TLSTestClient(port: port, ip: ip, caFile: try TestCertificates.path("ca.pem"))
            #expect(client.handshake(), "handshake with \(ip)")
            client.send(tcpRequest("OPTIONS", port: client.peer.localPort, branch: "z9hG4bK-tls-\(port)", callID: "tls-\(port)"))
            let reply = try #require(client.receive(timeout: 5))
            #expect(reply.statusCode == 200)
            #expect(reply.header(HeaderName("X-Proto")) == "tls")
            #expect(reply.header(HeaderName("X-Socket")) == socket)
            // A keep-alive is answered inside TLS too.
            client.send("\r\n\r\n")
            client.send(tcpRequest("OPTIONS", port: client.peer.localPort, branch: "z9hG4bK-tls2-\(port)", callID: "tls2-\(port)"))
            #expect(client.receive(timeout: 5)?.callID == "tls2-\(port)")
        }
        let stats = proxy.core.streams.snapshot(.tls)
        #expect(stats["accepted"] == 2 && stats["handshakes"] == 2 && stats["handshake_failures"] == 0)
        #expect((stats["bytes_in"] ?? 0) > 0 && (stats["bytes_out"] ?? 0) > 0)
        #expect(proxy.core.streams.snapshot(.tcp)["accepted"] == 0)
        #expect(proxy.core.streams.tlsCounters.pings.load(ordering: .relaxed) == 2)
    }

    @Test("require_cert: a client certificate from an untrusted CA, or none, is refused and logged; a trusted one is served")
    func requireCertificate() throws {
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops,
                                      tls: try Self.certificates(requireCertificate: true),
                                      logger: capture.logger(level: .warning))
        let ca = try TestCertificates.path("ca.pem")
        let bad = try TLSTestClient(port: proxy.tlsPort, certificate: try TestCertificates.path("bad-client.pem"),
                                    key: try TestCertificates.path("bad-client.key"), caFile: ca)
        _ = bad.handshake()  // TLS 1.3: the client may finish before the server checked its certificate
        bad.send(tcpRequest("OPTIONS", port: bad.peer.localPort, branch: "z9hG4bK-bad", callID: "bad"))
        #expect(bad.receive(timeout: 3) == nil)
        #expect(bad.waitForClose(timeout: 5), "the connection of an untrusted client is closed")
        let logged = capture.wait(timeout: 3) { $0.message == "TLS failure" && $0.metadata["tls.code"] == "certificateVerification" }
        let record = try #require(logged, "\(capture.all)")
        #expect(record.metadata["tls.peer"] == "127.0.0.1:\(bad.peer.localPort)")
        #expect(record.metadata["tls.reason"]?.isEmpty == false)
        #expect(record.metadata["tls.peer_certificate"]?.contains("Other test CA") == true, "\(record)")

        let anonymous = try TLSTestClient(port: proxy.tlsPort, caFile: ca)
        _ = anonymous.handshake()
        anonymous.send(tcpRequest("OPTIONS", port: anonymous.peer.localPort, branch: "z9hG4bK-anon", callID: "anon"))
        #expect(anonymous.receive(timeout: 3) == nil)
        #expect(anonymous.waitForClose(timeout: 5), "a client without a certificate is closed")

        let good = try TLSTestClient(port: proxy.tlsPort, certificate: try TestCertificates.path("client.pem"),
                                     key: try TestCertificates.path("client.key"), caFile: ca)
        #expect(good.handshake())
        good.send(tcpRequest("OPTIONS", port: good.peer.localPort, branch: "z9hG4bK-good", callID: "good"))
        #expect(good.receive(timeout: 5)?.statusCode == 200)
        let stats = proxy.core.streams.snapshot(.tls)
        // The untrusted certificate, and the missing one ("peer did not return a certificate").
        #expect((stats["certificate_failures"] ?? 0) >= 1 && stats["handshake_failures"] == 2, "\(stats)")
    }

    @Test("a peer that connects and sends nothing is closed after tls_handshake_timeout; others are served meanwhile")
    func handshakeTimeout() throws {
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops,
                                      tls: try Self.certificates("modparam(\"proto_tls\", \"tls_handshake_timeout\", 300)"),
                                      logger: capture.logger(level: .warning))
        let silent = try TCPTestPeer(connectingTo: proxy.tlsPort)
        let started = Date()
        let client = try TLSTestClient(port: proxy.tlsPort, caFile: try TestCertificates.path("ca.pem"))
        #expect(client.handshake())
        #expect(silent.waitForClose(timeout: 5))
        #expect(Date().timeIntervalSince(started) >= 0.25)
        #expect(proxy.core.streams.tlsCounters.handshakeTimeouts.load(ordering: .relaxed) == 1)
        #expect(capture.wait(timeout: 3) { $0.metadata["tls.code"] == "handshakeTimeout" } != nil, "\(capture.all)")
        // The established connection is not affected.
        client.send(tcpRequest("OPTIONS", port: client.peer.localPort, branch: "z9hG4bK-after", callID: "after"))
        #expect(client.receive(timeout: 5)?.statusCode == 200)
    }

    @Test("plain SIP sent to the TLS port: that connection is closed, a TLS client beside it is not affected")
    func plainTextOnTLSPort() throws {
        let proxy = try ScriptedProxy(routes: Self.answerRoutes, globals: Self.textops, tls: try Self.certificates())
        let client = try TLSTestClient(port: proxy.tlsPort, caFile: try TestCertificates.path("ca.pem"))
        #expect(client.handshake())
        let plain = try TCPTestPeer(connectingTo: proxy.tlsPort)
        plain.send(tcpRequest("OPTIONS", port: plain.localPort, branch: "z9hG4bK-plain", callID: "plain"))
        #expect(plain.receive(timeout: 3) == nil)
        #expect(plain.waitForClose(timeout: 5))
        #expect(proxy.core.streams.tlsCounters.handshakeFailures.load(ordering: .relaxed) == 1)
        client.send(tcpRequest("OPTIONS", port: client.peer.localPort, branch: "z9hG4bK-ok", callID: "ok"))
        #expect(client.receive(timeout: 5)?.statusCode == 200)
        #expect(Self.eventually { proxy.core.streams.snapshot(.tls)["open"] == 1 })
    }

    /// A record-routing proxy: new calls to `destination`; in-dialog requests from the UDP side to
    /// `inDialog` when given.
    static func relayRoutes(destination: String, inDialog: String? = nil) -> String {
        """
        route {
            if (!mf_process_maxfwd_header(70)) { sl_send_reply(483, "Too Many Hops"); exit; }
            if (has_totag()) {
                if (loose_route()) {
                    \(inDialog.map { "if ($proto == \"udp\") { $du = \"\($0)\"; }" } ?? "")
                    t_relay();
                    exit;
                }
                sl_send_reply(404, "Not Here");
                exit;
            }
            if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
            record_route();
            $du = "\(destination)";
            if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
        }
        """
    }

    @Test("SIPp (TCP) → stunnel client → Tandem tls socket → UDP SIPp UAS, record-routed: 300 calls, 0 failed")
    func sippOverStunnelToTandem() throws {
        let calls = 300, rate = 100
        let uasPort = Ports.free()
        let proxy = try ScriptedProxy(routes: Self.relayRoutes(destination: "sip:127.0.0.1:\(uasPort)"),
                                      tls: try Self.certificates())
        let tunnel = try Stunnel(client: true, connectPort: proxy.tlsPort, caFile: try TestCertificates.path("ca.pem"))
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "\(calls)"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: "127.0.0.1:\(tunnel.acceptPort)",
                               port: Ports.free(), controlPort: Ports.free(), calls: calls, rate: rate,
                               extra: ["-t", "t1"])
        let client = uac.wait(seconds: Double(calls / rate) + 60)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == calls, "\(client.output)\n--- stunnel ---\n\(tunnel.log)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        let stats = proxy.core.streams.snapshot(.tls)
        #expect(stats["handshakes"] == 1 && stats["handshake_failures"] == 0, "\(stats)")
    }

    @Test("UDP SIPp → Tandem → TLS next hop (;transport=tls, stunnel server before a TCP SIPp UAS): 200 calls, 0 failed")
    func tandemToTLSNextHop() throws {
        let calls = 200, rate = 100
        let uasPort = Ports.free()
        let tunnel = try Stunnel(client: false, connectPort: uasPort, certificate: try TestCertificates.path("server.pem"),
                                 key: try TestCertificates.path("server.key"))
        let next = "sip:127.0.0.1:\(tunnel.acceptPort);transport=tls"
        let proxy = try ScriptedProxy(routes: Self.relayRoutes(destination: next, inDialog: next),
                                      globals: "modparam(\"tandem\", \"udp_sockets\", \"per_worker\")\n",
                                      tls: try Self.certificates())
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "\(calls)", "-t", "t1"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: calls, rate: rate)
        let client = uac.wait(seconds: Double(calls / rate) + 60)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == calls, "\(client.output)\n--- stunnel ---\n\(tunnel.log)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        let stats = proxy.core.streams.snapshot(.tls)
        #expect(stats["connected"] == 1 && stats["handshakes"] == 1 && stats["handshake_failures"] == 0, "\(stats)")
    }

    @Test("sips: R-URI, t_relay(\"tls:…\") and force_send_socket(\"tls:…\") go over one pooled TLS connection; Via TLS, Record-Route transport=tls")
    func outgoingTLSSelection() throws {
        let callee = try TCPTestListener()
        let tunnel = try Stunnel(client: false, connectPort: callee.port, certificate: try TestCertificates.path("server.pem"),
                                 key: try TestCertificates.path("server.key"))
        let forcedPort = Ports.free()
        let hop = "127.0.0.1:\(tunnel.acceptPort)"
        let proxy = try ScriptedProxy(routes: """
            route {
                record_route();
                if ($rU == "forced") {
                    if (!force_send_socket("tls:127.0.0.1:\(forcedPort)")) { sl_send_reply(500, "No Socket"); exit; }
                    t_relay("udp:\(hop)");
                } else if ($rU == "named") {
                    t_relay("tls:\(hop)");
                } else {
                    t_relay();
                }
            }
            """, globals: "socket = tls:127.0.0.1:\(forcedPort)\n", tls: try Self.certificates())
        let caller = try SIPTestClient(proxyPort: proxy.port)
        var connection: TCPTestPeer?
        for (user, scheme, viaPort) in [("secure", "sips", proxy.tlsPort), ("named", "sip", proxy.tlsPort),
                                        ("forced", "sip", forcedPort)] {
            try caller.send(caller.request("OPTIONS", uri: "\(scheme):\(user)@\(hop)", branch: "z9hG4bK-\(user)",
                                           callID: "out-\(user)"))
            if connection == nil { connection = callee.accept(timeout: 5) }
            let peer = try #require(connection, "no TLS connection came through stunnel: \(tunnel.log)")
            let request = try #require(peer.receive(timeout: 5), "\(user)")
            #expect(request.callID == "out-\(user)")
            let via = try request.topVia()
            #expect(via.transport.uppercased() == "TLS", "\(user)")
            #expect(via.port == viaPort, "\(user)")
            #expect(request.header(HeaderName.recordRoute)?.contains("transport=tls") == true, "\(user)")
            peer.send(SIPMessage.makeResponse(to: request, status: 200, reason: nil, toTag: user))
            #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 200, "\(user)")
        }
        #expect(callee.accept(timeout: 0.2) == nil, "one pooled connection")
        let stats = proxy.core.streams.snapshot(.tls)
        #expect(stats["connected"] == 1 && stats["handshakes"] == 1, "\(stats)")
    }

    @Test("verify_cert: a TLS next hop whose certificate the CA list does not trust fails the branch (503), logged")
    func untrustedNextHop() throws {
        let capture = LogCapture()
        let listener = try Stunnel(client: false, connectPort: Ports.free(),
                                   certificate: try TestCertificates.path("bad-client.pem"),
                                   key: try TestCertificates.path("bad-client.key"))
        let proxy = try ScriptedProxy(routes: Self.relayRoutes(destination: "sip:127.0.0.1:\(listener.acceptPort);transport=tls"),
                                      tls: try Self.certificates(), logger: capture.logger(level: .warning))
        let udp = try SIPTestClient(proxyPort: proxy.port)
        try udp.send(udp.request("OPTIONS", branch: "z9hG4bK-untrusted", callID: "untrusted"))
        var final: SIPMessage?
        let deadline = Date().addingTimeInterval(10)
        while final == nil && Date() < deadline {
            if let reply = udp.receive(timeout: 1), (reply.statusCode ?? 0) >= 200 { final = reply }
        }
        #expect(final?.statusCode == 503, "\(String(describing: final))")
        #expect(proxy.core.streams.tlsCounters.certificateFailures.load(ordering: .relaxed) == 1)
        #expect(capture.wait(timeout: 3) { $0.metadata["tls.code"] == "certificateVerification" && $0.metadata["tls.role"] == "client" } != nil,
                "\(capture.all)")
    }
}
