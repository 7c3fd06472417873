import Testing
@testable import TandemScript

@Suite struct AVPAndPseudoVariableTests {
    @Test func avpStacking() throws {
        var r = try Run("""
        route {
            $avp(a) = "one";
            $avp(a) = "two";
            $avp(a) = "three";
            $var(top) = $avp(a);
            $var(i0) = $avp(a)[0];
            $var(i2) = $(avp(a)[2]);
            $var(i9) = $avp(a)[9];
            $var(last) = $avp(a)[-1];
        }
        """)
        r.run()
        #expect(r.avp("a") == [.string("three"), .string("two"), .string("one")])
        #expect(r.variable("top") == .string("three"))
        #expect(r.variable("i0") == .string("three"))
        #expect(r.variable("i2") == .string("one"))
        #expect(r.variable("i9") == .null)
        #expect(r.variable("last") == .string("one"))
    }

    @Test func avpDeletionAndOverwrite() throws {
        var r = try Run("""
        route {
            $avp(a) = 1; $avp(a) = 2; $avp(a) = 3;
            $avp(a) = NULL;
            $var(after_null) = $avp(a);
            $avp(a)[1] = "one";
            $avp(b) = 1; $avp(b) = 2;
            $avp(b) := 9;
            $avp(c) = 1; $avp(c) = 2;
            $avp(c) := NULL;
            $avp(d) = 1; $avp(d) = 2; $avp(d) = 3;
            $(avp(d)[1]) = NULL;
            $avp(e) = 5; $avp(e) += 10;
        }
        """)
        r.run()
        #expect(r.variable("after_null") == .int(2))
        #expect(r.avp("a") == [.int(2), .string("one")])
        #expect(r.avp("b") == [.int(9)])
        #expect(r.avp("c") == [])
        #expect(r.avp("d") == [.int(3), .int(1)])
        #expect(r.avp("e") == [.int(15)])
    }

    @Test func avpsSurviveAcrossRoutesOfTheTransaction() throws {
        var r = try Run("""
        route { $avp(dest) = "sip:b@x"; t_on_failure("missed"); t_relay(); }
        failure_route[missed] { $var(d) = $avp(dest); }
        """)
        r.run()
        let failure = try #require(r.proxy.failureRoute)
        #expect(failure.kind == .failure)
        let store = r.context.avps
        // A new context (other worker) gets the transaction's AVPs from the host.
        var ctx = ExecutionContext(script: r.script, message: TestMessage(), proxy: r.proxy)
        ctx.avps = store
        _ = r.script.run(route: failure, context: &ctx)
        #expect(ctx.vars[r.script.varNames.firstIndex(of: "d")!] == .string("sip:b@x"))
    }

    @Test func messagePseudoVariablesRead() throws {
        let m = TestMessage()
        let all: [MessagePV: ScriptValue] = [
            .requestURI: .string("sip:alice@example.com"), .requestUser: .string("alice"),
            .requestDomain: .string("example.com"), .requestPort: .int(5060), .destinationURI: .string("sip:gw"),
            .fromURI: .string("sip:bob@example.org"), .fromUser: .string("bob"), .fromDomain: .string("example.org"),
            .toURI: .string("sip:alice@example.com"), .toUser: .string("alice"), .toDomain: .string("example.com"),
            .callID: .string("cid"), .cseq: .string("1 INVITE"), .method: .string("INVITE"),
            .replyStatus: .int(200), .replyReason: .string("OK"), .sourceIP: .string("10.0.0.1"),
            .sourcePort: .int(5060), .receivedIP: .string("127.0.0.1"), .receivedPort: .int(5060),
            .proto: .string("udp"), .userAgent: .string("ua"), .body: .string("v=0"), .message: .string("INVITE ..."),
            .replyCode: .int(486), .branchIndex: .int(0),
        ]
        for (k, v) in all { m.values[k] = v }
        let names = ["ru", "rU", "rd", "rp", "du", "fu", "fU", "fd", "tu", "tU", "td", "ci", "cs", "rm", "rs", "rr",
                     "si", "sp", "Ri", "Rp", "pr", "proto", "ua", "mb", "ml", "T_reply_code", "T_branch_idx"]
        let body = names.map { "$var(v_\($0)) = $\($0);" }.joined(separator: "\n")
        var r = try Run("route {\n\(body)\n$var(h0) = $hdr(Via); $var(h1) = $hdr(via)[1]; $var(h2) = $(hdr(Via)[-1]); $var(hx) = $hdr(X-None);\n}", message: m)
        r.run()
        for n in names {
            let pv = MessagePV.byName[n]!
            #expect(r.variable("v_\(n)") == all[pv]!, "\(n)")
        }
        #expect(r.variable("h0") == .string("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1"))
        #expect(r.variable("h1") == .string("SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2"))
        #expect(r.variable("h2") == .string("SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2"))
        #expect(r.variable("hx") == .null)
    }

    @Test func messagePseudoVariablesWrite() throws {
        var r = try Run("""
        route {
            $ru = "sip:carol@example.net";
            $rU = "carol2";
            $rd = "example.org";
            $rp = 5070;
            $du = "sip:10.0.0.9:5060";
            $du = NULL;
        }
        """)
        r.run()
        #expect(r.message.values[.requestURI] == .string("sip:carol@example.net"))
        #expect(r.message.values[.requestUser] == .string("carol2"))
        #expect(r.message.values[.requestDomain] == .string("example.org"))
        #expect(r.message.values[.requestPort] == .int(5070))
        #expect(r.message.values[.destinationURI] == .null)
    }

    @Test func pvSyntaxParsing() {
        let s = PVSyntax.parse("(avp(x)[2])")
        #expect(s?.name == "avp")
        #expect(s?.argument == "x")
        #expect(s?.index == "2")
        let t = PVSyntax.parse("(hdr(From){uri.user})")
        #expect(t?.transformations == ["uri.user"])
        #expect(PVSyntax.parse("time(%H:%M)")?.argument == "%H:%M")
        #expect(PVSyntax.parse("") == nil)
    }
}
