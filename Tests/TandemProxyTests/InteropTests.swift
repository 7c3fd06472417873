import Foundation
import Glibc
import Reactor
import SIPCore
import Synchronization
import Testing
@testable import TandemProxy

/// RFC 3261 interop details (issue 14 item 5): Max-Forwards decremented once, 420 for Proxy-Require,
/// 416 for a Request-URI scheme the proxy cannot route.
@Suite(.serialized)
struct InteropTests {
    /// Sends `request` and returns the Max-Forwards the next hop received.
    static func forwardedMaxForwards(_ client: SIPTestClient, _ uas: SIPTestServer, maxForwards: String,
                                     id: String) throws -> String? {
        let request = String(decoding: client.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(uas.port)",
                                                      branch: "z9hG4bK-mf-\(id)", callID: "mf-\(id)"), as: UTF8.self)
            .replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: \(maxForwards)")
        try client.send(Array(request.utf8))
        guard let (received, peer) = uas.receive(timeout: 2) else { return nil }
        try uas.reply(to: received, from: peer, status: 200)
        return received.header(.maxForwards)
    }

    @Test("mf_process_maxfwd_header then t_relay: Max-Forwards decremented once; the argument only fills a missing header")
    func maxForwardsOnce() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: ScriptedProxy.relayRoutes)   // mf_process_maxfwd_header(70)
        let client = try SIPTestClient(proxyPort: proxy.port)
        #expect(try Self.forwardedMaxForwards(client, uas, maxForwards: "70", id: "1") == "69")
        #expect(try Self.forwardedMaxForwards(client, uas, maxForwards: "100", id: "2") == "99", "not capped at 70")
        #expect(try Self.forwardedMaxForwards(client, uas, maxForwards: "1", id: "3") == "0", "1 goes out as 0")
        // No Max-Forwards: the function adds its argument, t_relay sends it as it is.
        let request = String(decoding: client.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(uas.port)",
                                                      branch: "z9hG4bK-mf-4", callID: "mf-4"), as: UTF8.self)
            .replacingOccurrences(of: "Max-Forwards: 70\r\n", with: "")
        try client.send(Array(request.utf8))
        let received = try #require(uas.receive(timeout: 2))
        #expect(received.0.header(.maxForwards) == "70")
        // 0 is answered 483 by the script and not relayed.
        let zero = String(decoding: client.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(uas.port)",
                                                   branch: "z9hG4bK-mf-5", callID: "mf-5"), as: UTF8.self)
            .replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 0")
        try client.send(Array(zero.utf8))
        #expect(client.waitFor(timeout: 2) { $0 == 483 }.match != nil)
    }

    @Test("Without mf_process_maxfwd_header the proxy decrements once itself")
    func maxForwardsWithoutScript() throws {
        let uas = try SIPTestServer()
        let proxy = try ProxyHarness()
        let client = try SIPTestClient(proxyPort: proxy.port)
        #expect(try Self.forwardedMaxForwards(client, uas, maxForwards: "70", id: "6") == "69")
    }

    @Test("Proxy-Require naming an extension: 420 with Unsupported; a non-SIP Request-URI scheme: 416")
    func unsupportedExtensionAndScheme() throws {
        let uas = try SIPTestServer()
        let proxy = try ProxyHarness()
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", uri: "sip:bob@127.0.0.1:\(uas.port)", branch: "z9hG4bK-pr-1",
                                       callID: "pr-1", extraHeaders: "Proxy-Require: foo\r\nProxy-Require: sec-agree\r\n"))
        let reply = client.waitFor(timeout: 2) { $0 >= 200 }
        #expect(reply.match?.statusCode == 420, "seen \(reply.seen)")
        #expect(reply.match?.headerValues(.unsupported) == ["foo", "sec-agree"])
        try client.send(client.request("OPTIONS", uri: "urn:service:sos", branch: "z9hG4bK-sc-1", callID: "sc-1"))
        let scheme = client.waitFor(timeout: 2) { $0 >= 200 }
        #expect(scheme.match?.statusCode == 416, "seen \(scheme.seen)")
        // tel: and sips: are not refused here (tel: needs a $du to be relayed: 500 from the router).
        try client.send(client.request("OPTIONS", uri: "tel:+15551234", branch: "z9hG4bK-sc-2", callID: "sc-2"))
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 500)
        #expect(uas.receive(timeout: 0.2) == nil)
        let refused = proxy.core.counters.refusedByReasonSnapshot()
        #expect(refused["unsupported_extension"] == 1)
        #expect(refused["unsupported_scheme"] == 1)
    }
}
