import Foundation
import Reactor
import SIPCore
@testable import TandemProxy
import TandemTestSupport
import Testing

/// A route run keeps the To/From it parsed for `$tU`/`$fU` & co. only while the header stays the same:
/// a header the script rewrites mid-route is read anew (the kept value is checked against its bytes).
@Suite struct ScriptAddressReadTests {
    @Test("$tU/$td/$fU/$tt/$ft read after remove_hf + append_hf of To and From give the new values")
    func rewrittenHeadersAreReadAgain() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                $var(before) = $tU + "@" + $td + " " + $fU + " " + $ft;
                remove_hf("To");
                append_hf("To: <sip:carol@elsewhere.example>;tag=t9\\r\\n");
                remove_hf("From");
                append_hf("From: \\"Dave\\" <sip:dave@example.org>;tag=f2\\r\\n");
                append_to_reply("X-Before: $var(before)\\r\\nX-After: $tU@$td $fU $tt $ft\\r\\n");
                sl_send_reply(404, "Read");
            }
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", uri: "sip:bob@127.0.0.1", branch: "z9hG4bK-addr-1", callID: "addr-1"))
        let reply = try #require(client.waitFor(timeout: 5) { $0 >= 200 }.match)
        #expect(reply.statusCode == 404)
        #expect(reply.header(.other("X-Before")) == "bob@127.0.0.1 alice a1")
        #expect(reply.header(.other("X-After")) == "carol@elsewhere.example dave t9 f2")
    }
}

/// `has_totag()` reads the To bytes unless the run parsed To already; `$hdr(X)` of a header that is not a
/// comma list reads its first line without building the list; `isMyself` compares IP literals as addresses.
@Suite struct ScriptHeaderFastPathTests {
    @Test("has_totag before and after To is rewritten, $hdr of single-value and list headers")
    func toTagAndHeaderReads() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                mf_process_maxfwd_header(70);
                $var(a) = "n";
                if (has_totag()) { $var(a) = "y"; }
                $var(b) = $tt;
                remove_hf("To");
                append_hf("To: <sip:carol@elsewhere.example>\\r\\n");
                $var(c) = "n";
                if (has_totag()) { $var(c) = "y"; }
                remove_hf("To");
                append_hf("To: \\"C;tag=no\\" <sip:carol@elsewhere.example;tag=no>;Tag=t7\\r\\n");
                $var(d) = "n";
                if (has_totag()) { $var(d) = "y"; }
                append_to_reply("X-Tags: $var(a) $var(b) $var(c) $var(d)\\r\\n");
                append_to_reply("X-Hdr: [$hdr(Max-Forwards)] [$hdr(Subject)] [$(hdr(Subject)[1])] [$hdr(X-List)] [$hdr(Missing)]\\r\\n");
                sl_send_reply(404, "Read");
            }
            """)
        let client = try SIPTestClient(proxyPort: proxy.port)
        let request = String(decoding: client.request(
            "OPTIONS", uri: "sip:bob@127.0.0.1", branch: "z9hG4bK-fast-1", callID: "fast-1",
            extraHeaders: "Subject: one, two\r\nSubject: three\r\nX-List: a, b\r\n"), as: UTF8.self)
        try client.send(Array(request.replacingOccurrences(of: "To: <sip:bob@127.0.0.1>\r",
                                                           with: "To: <sip:bob@127.0.0.1>;tag=t1\r").utf8))
        let reply = try #require(client.waitFor(timeout: 5) { $0 >= 200 }.match)
        #expect(reply.statusCode == 404)
        #expect(reply.header(.other("X-Tags")) == "y t1 n y")
        #expect(reply.header(.other("X-Hdr")) == "[69] [one, two] [three] [a] [<null>]")
    }

    @Test("isMyself: listen IP literals by address (any spelling), other hosts only as aliases")
    func isMyself() throws {
        let proxy = try ScriptedProxy(routes: "route { sl_send_reply(404, \"x\"); }")
        let core = proxy.core
        let port = proxy.port
        #expect(core.isMyself(host: "127.0.0.1", port: port))
        #expect(core.isMyself(host: "127.000.0.1", port: port) == (SocketAddress(ip: "127.000.0.1", port: port) != nil))
        #expect(!core.isMyself(host: "127.0.0.1", port: port &+ 1))
        #expect(!core.isMyself(host: "127.0.0.2", port: port))
        #expect(!core.isMyself(host: "[::1]", port: port))
        #expect(!core.isMyself(host: "example.com", port: port))
    }
}

/// The tag of a statelessly answered request is its hash in base 36, as `String(_:radix:)` writes it.
@Suite struct StatelessTagFormatTests {
    @Test("base36 matches String(_:radix: 36) at the edges and on samples")
    func base36() {
        var values: [UInt64] = [0, 1, 35, 36, 37, 1_295, 1_296, UInt64.max, UInt64.max - 1, UInt64(Int64.max)]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(x)
        }
        for value in values { #expect(ProxyCore.base36(value) == String(value, radix: 36)) }
    }
}
