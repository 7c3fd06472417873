import Foundation
import Glibc
import Reactor
import SIPCore
import Synchronization
import Testing
@testable import TandemProxy

/// Host names are never looked up with getaddrinfo on a worker (issue 14 item 2, issue 18): replies go
/// to the source address; a next hop named by the packet or the script is located by the worker's
/// non-blocking resolver, and one that does not resolve gets 503.
@Suite(.serialized)
struct HostNameTests {
    /// A request from `client` with the given top Via, headers and Request-URI, as raw text.
    static func raw(_ lines: [String]) -> [UInt8] {
        Array((lines.joined(separator: "\r\n") + "\r\nContent-Length: 0\r\n\r\n").utf8)
    }

    @Test("A malformed request with host names in its Via gets the 400 at its source address and port")
    func malformedRequestRepliedToSource() throws {
        let proxy = try ProxyHarness()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let elsewhere = try SIPTestServer()   // where a resolved Via would send the reply
        // No From: a 400. The Via names localhost (and a maddr naming it) at another port, with rport.
        try client.send(Self.raw([
            "INVITE sip:bob@127.0.0.1:9 SIP/2.0",
            "Via: SIP/2.0/UDP localhost:\(elsewhere.port);rport;maddr=localhost;branch=z9hG4bK-mal-1",
            "To: <sip:bob@127.0.0.1>", "Call-ID: mal-1", "CSeq: 1 INVITE", "Max-Forwards: 70",
        ]))
        let reply = client.waitFor(timeout: 2) { $0 == 400 }
        #expect(reply.match != nil, "no 400 at the source; seen \(reply.seen)")
        let via = try reply.match?.topVia()
        #expect(via?.received == "127.0.0.1")
        #expect(via?.rport == .value(client.port))
        #expect(elsewhere.receive(timeout: 0.2) == nil)

        // A top Via that does not parse, with a readable Call-ID: still a 400, to the source.
        try client.send(Self.raw([
            "OPTIONS sip:bob@127.0.0.1:9 SIP/2.0", "Via: SIP/2.0/UDP", "From: <sip:a@b>;tag=1",
            "To: <sip:bob@127.0.0.1>", "Call-ID: mal-2", "CSeq: 1 OPTIONS",
        ]))
        let second = client.waitFor(timeout: 2) { $0 == 400 }
        #expect(second.match?.callID == "mal-2", "seen \(second.seen)")
        #expect(proxy.core.counters.parseErrors.load(ordering: .relaxed) == 2)
    }

    @Test("A Route naming a host that does not resolve gets 503; a numeric maddr is used")
    func packetNamesRefused() throws {
        let proxy = try ProxyHarness()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let uas = try SIPTestServer()
        // In-dialog request whose Route names a host in a reserved TLD (RFC 2606: never resolves).
        try client.send(client.request("INVITE", uri: "sip:bob@127.0.0.1:\(uas.port)", branch: "z9hG4bK-rt-1",
                                       callID: "rt-1", extraHeaders: "Route: <sip:route-host.invalid:\(uas.port);lr>\r\n")
            .replacingTo(tag: "t1"))
        #expect(client.waitFor(timeout: 15) { $0 == 503 }.match != nil)
        #expect(uas.receive(timeout: 0.1) == nil, "nothing reached the next hop")

        // A numeric maddr is used.
        try client.send(client.request("INVITE", uri: "sip:bob@127.0.0.9:\(uas.port);maddr=127.0.0.1",
                                       branch: "z9hG4bK-num-1", callID: "num-1"))
        let received = try #require(uas.receive(timeout: 2))
        #expect(received.0.callID == "num-1")
        try uas.reply(to: received.0, from: received.1, status: 486)
        #expect(client.waitFor(timeout: 2) { $0 == 486 }.match != nil)
    }

    @Test("A maddr naming a host in /etc/hosts is located without DNS")
    func maddrFromHostsFile() throws {
        let proxy = try ProxyHarness()
        let client = try SIPTestClient(proxyPort: proxy.port)
        let uas = try SIPTestServer()
        try client.send(client.request("OPTIONS", uri: "sip:bob@127.0.0.9:\(uas.port);maddr=localhost",
                                       branch: "z9hG4bK-ma-1", callID: "ma-1"))
        let received = try #require(uas.receive(timeout: 2))
        #expect(received.0.callID == "ma-1")
    }

    @Test("A host name the script puts in $du is still resolved")
    func scriptNameResolved() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                $du = "sip:localhost:\(uas.port)";
                if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
            }
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", uri: "sip:bob@somewhere.invalid", branch: "z9hG4bK-du-1",
                                       callID: "du-1"))
        let received = try #require(uas.receive(timeout: 2))
        #expect(received.0.callID == "du-1")
        #expect(proxy.core.counters.hostNamesRefused.load(ordering: .relaxed) == 0)
    }
}

extension Array where Element == UInt8 {
    /// The request with `;tag=` added to its To header (an in-dialog request).
    func replacingTo(tag: String) -> [UInt8] {
        var text = String(decoding: self, as: UTF8.self)
        if let range = text.range(of: "\r\nTo: ") , let end = text[range.upperBound...].range(of: "\r\n") {
            text.replaceSubrange(end.lowerBound..<end.lowerBound, with: ";tag=\(tag)")
        }
        return Array(text.utf8)
    }
}
