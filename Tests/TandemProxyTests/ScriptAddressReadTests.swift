import SIPCore
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
