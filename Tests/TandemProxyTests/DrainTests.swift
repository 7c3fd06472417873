import Foundation
import Glibc
import SIPCore
import Synchronization
import TandemServer
import TandemScript
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Draining for a graceful shutdown, in process: new requests are turned away, everything that belongs
/// to an existing transaction or dialog still goes through.
@Suite(.serialized)
struct DrainTests {
    @Test("Draining: a new INVITE gets 503 + Retry-After; a retransmission, the responses and an in-dialog BYE still pass")
    func drainingProxy() throws {
        let proxy = try ProxyHarness()
        let uas = try SIPTestServer()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let uri = "sip:bob@127.0.0.1:\(uas.port)"
        let counters = proxy.core.counters

        // A call in progress before the drain: relayed, 100 Trying upstream, awaiting its final reply.
        let invite = client.request("INVITE", uri: uri, branch: "z9hG4bK-drain-1", callID: "drain-1")
        try client.send(invite)
        let (relayed, peer) = try #require(uas.receive(timeout: 2))
        #expect(client.waitFor(timeout: 2) { $0 == 100 }.match != nil)
        #expect(proxy.core.drainProgress == DrainProgress(suspended: 0, awaitingFinal: 1))
        #expect(!proxy.core.isDraining)

        proxy.core.beginDrain(retryAfterSeconds: 7)
        #expect(proxy.core.isDraining)

        // A retransmission of the existing INVITE is absorbed (its 100 Trying again), not rejected.
        try client.send(invite)
        #expect(client.waitFor(timeout: 2) { $0 == 100 }.match != nil)
        #expect(counters.retransmissionsAbsorbed.load(ordering: .relaxed) == 1)

        // A new call is turned away statelessly, and never reaches the UAS.
        try client.send(client.request("INVITE", uri: uri, branch: "z9hG4bK-drain-2", callID: "drain-2"))
        let (rejected, _) = client.waitFor(timeout: 2) { $0 >= 200 }
        #expect(rejected?.statusCode == 503)
        #expect(rejected?.header(.retryAfter) == "7")
        #expect(rejected?.callID == "drain-2")
        #expect(counters.drainRejected.load(ordering: .relaxed) == 1)
        #expect(uas.receive(timeout: 0.2) == nil)

        // The existing call's responses are still relayed; then its final reply settles it.
        try uas.reply(to: relayed, from: peer, status: 180)
        #expect(client.waitFor(timeout: 2) { $0 == 180 }.match != nil)
        try uas.reply(to: relayed, from: peer, status: 200)
        #expect(client.waitFor(timeout: 2) { $0 == 200 }.match != nil)
        #expect(proxy.core.drainProgress.isIdle)

        // In-dialog requests (To tag) still go through: ACK and BYE follow the Route to the UAS.
        let dialog = "Route: <sip:127.0.0.1:\(proxy.port);lr>\r\n"
        var ack = client.request("ACK", uri: uri, branch: "z9hG4bK-drain-ack", callID: "drain-1",
                                 extraHeaders: dialog)
        ack = Array(String(decoding: ack, as: UTF8.self).replacingOccurrences(of: "To: <\(uri)>", with: "To: <\(uri)>;tag=uas1").utf8)
        try client.send(ack)
        #expect(uas.receive(timeout: 2)?.0.method == .ack)
        var bye = client.request("BYE", uri: uri, branch: "z9hG4bK-drain-bye", callID: "drain-1", cseq: 2,
                                 extraHeaders: dialog)
        bye = Array(String(decoding: bye, as: UTF8.self).replacingOccurrences(of: "To: <\(uri)>", with: "To: <\(uri)>;tag=uas1").utf8)
        try client.send(bye)
        let (byeRelayed, byePeer) = try #require(uas.receive(timeout: 2))
        #expect(byeRelayed.method == .bye)
        #expect(proxy.core.drainProgress.awaitingFinal == 1)
        try uas.reply(to: byeRelayed, from: byePeer, status: 200)
        #expect(client.waitFor(timeout: 2) { $0 == 200 }.match?.callID == "drain-1")
        #expect(proxy.core.drainProgress.isIdle)
        #expect(counters.drainRejected.load(ordering: .relaxed) == 1)
    }

    @Test("Draining: a suspended transaction resumes, relays and completes")
    func suspendedTransactionCompletes() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(usleep(300000), resume);
            }
            route[resume] {
                t_relay("udp:127.0.0.1:\(uas.port)");
            }
            """, globals: #"loadmodule "cfgutils.so""#)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-drain-s1", callID: "drain-s1"))
        #expect(client.waitFor(timeout: 2) { $0 == 100 }.match != nil)
        #expect(proxy.server.drainProgress == DrainProgress(suspended: 1, awaitingFinal: 1))
        proxy.server.beginDrain()
        #expect(proxy.server.isDraining)
        let (request, peer) = try #require(uas.receive(timeout: 2))
        #expect(proxy.server.drainProgress == DrainProgress(suspended: 0, awaitingFinal: 1))
        try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 486)
        #expect(proxy.server.drainProgress.isIdle)
    }

    @Test("drain_time: modparam tandem drain_time sets it (default 30); a bad value is an error")
    func drainTimeParameter() throws {
        func load(_ extra: String) -> TandemServer.Loaded {
            TandemServer.load(source: """
                socket = udp:127.0.0.1:\(Ports.free())
                loadmodule "tm.so"
                \(extra)
                route { t_relay(); }
                """, fileName: "drain.cfg")
        }
        #expect(load("").server?.drainTimeSeconds == 30)
        #expect(load(#"modparam("tandem", "drain_time", 7)"#).server?.drainTimeSeconds == 7)
        let bad = load(#"modparam("tandem", "drain_time", -1)"#)
        #expect(bad.server == nil)
        #expect(bad.diagnostics.contains { $0.message.contains("drain_time") })
        #expect(!load(#"modparam("tandem", "drain_time", 7)"#).diagnostics.contains { $0.severity == .warning })
    }
}
