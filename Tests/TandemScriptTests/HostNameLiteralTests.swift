import Testing
@testable import TandemScript

/// Host names as comparison literals (`src_ip == backup.foo.bar`) and numeric route names (issue 15).
@Suite struct HostNameLiteralTests {
    @Test func hostNameComparisonsMatchEveryResolvedAddress() throws {
        let msg = TestMessage()
        msg.values[.sourceIP] = .string("10.0.0.7")
        msg.values[.receivedIP] = .string("2001:db8::7")
        var r = try Run("""
        route {
            if (src_ip == backup.foo.bar) { $var(a) = 1; }
            if ($si == Backup.Foo.Bar) { $var(b) = 1; }
            if (dst_ip == backup.foo.bar) { $var(c) = 1; }
            if ($si != sip-2.example.com) { $var(d) = 1; }
            if (sip-2.example.com == $si) { $var(e) = 1; }
            $var(name) = "BACKUP.foo.bar";
            if ($var(name) == backup.foo.bar) { $var(f) = 1; }
        }
        """, message: msg)
        #expect(r.script.hostNames.map(\.name) == ["backup.foo.bar", "sip-2.example.com"])
        let unresolved = r.script.resolveHostNames { name in
            name == "backup.foo.bar" ? ["10.0.0.8", "10.0.0.7", "2001:DB8::7"] : []
        }
        #expect(unresolved.map(\.name) == ["sip-2.example.com"])
        r.run()
        #expect(r.variable("a") == .int(1))
        #expect(r.variable("b") == .int(1))
        #expect(r.variable("c") == .int(1))
        #expect(r.variable("d") == .int(1))
        #expect(r.variable("e") == .null)
        #expect(r.variable("f") == .int(1), "the name itself matches as text")
    }

    @Test func hostNameBeforeResolutionMatchesNoAddress() throws {
        var r = try Run("route { if ($si == gw.example.net) { $var(a) = 1; } }")
        r.run()
        #expect(r.variable("a") == .null)
    }

    @Test func hostNameOutsideAComparisonIsAnError() {
        let r = check(prelude + "route { $var(x) = backup.foo.bar; if (backup.foo.bar) { exit; } }")
        let messages = r.diagnostics.map(\.message)
        #expect(messages.filter { $0.contains("host name 'backup.foo.bar' can only be compared with == or !=") }.count == 2,
                "\(messages)")
    }

    @Test func dottedWordWithSpacesIsNotAHostName() {
        // `a . b` is not a host name: the dot must touch both labels.
        let r = check(prelude + "route { if ($si == backup . foo) { exit; } }")
        #expect(r.hasErrors)
    }

    @Test func numericRouteNamesResolveAsOpenSIPSDoes() throws {
        let r = check(prelude + """
        route[0] {
            t_on_failure("1");
            t_on_failure(1);
            t_on_reply("2");
            t_on_branch(3);
            route(4);
            route("4");
            t_on_failure("0");
            t_relay();
        }
        route[4] { xlog("four\\n"); }
        failure_route[1] { xlog("f1\\n"); }
        failure_route[0] { xlog("f0\\n"); }
        onreply_route[2] { xlog("r2\\n"); }
        branch_route[3] { xlog("b3\\n"); }
        """)
        #expect(!r.hasErrors, "\(r.diagnostics.map(\.description))")
        let script = try #require(r.script)
        #expect(script.route(named: "0", kind: .failure) != nil)
        #expect(script.route(named: "1", kind: .failure) != nil)
    }

    @Test func failureRouteZeroWithoutSuchRouteDisarms() throws {
        // OpenSIPS's own example: a provisional reply resets the failure route with t_on_failure("0").
        var r = try Run("""
        route { t_on_failure("missed"); t_on_failure("0"); t_on_branch(0); t_relay(); }
        failure_route[missed] { exit; }
        onreply_route[1] { if ($rs =~ "18[0-9]") { t_on_failure("0"); } }
        """)
        r.run()
        #expect(r.proxy.calls == ["t_on_failure", "t_disarm failure_route", "t_disarm branch_route", "t_relay 0 -"])
    }

    @Test func numericRouteNameWithoutSuchRouteIsReported() {
        let r = check(prelude + """
        route { t_on_failure("3"); t_on_reply(7); route(5); t_relay(); }
        failure_route[1] { exit; }
        """)
        let messages = r.diagnostics.map(\.message)
        #expect(messages.contains { $0.hasPrefix("unknown failure_route '3'") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("unknown onreply_route '7'") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("unknown route '5'") }, "\(messages)")
    }
}

/// `$(<request>...)` / `$(<reply>...)` contexts of message variables (issue 15).
@Suite struct PVContextTests {
    @Test func replyContextReadsTheFailureReply() throws {
        var r = try Run("""
        route {
            $var(a) = $(<reply>hdr(X-Reason));
            $var(b) = $(<reply>rs);
            $var(c) = $(<request>ru);
            $var(d) = $(<reply>hdr(X-Reason){s.toupper});
            xlog("reply says $(<reply>hdr(X-Reason)) to $(<request>ru)\\n");
            $var(e) = $(<reply>hdr(X-Missing));
        }
        """)
        let reply = TestMessage()
        reply.isRequest = false
        reply.values[.replyStatus] = .int(486)
        reply.headers = [("X-Reason", "busy here")]
        r.proxy.contextMessages[.reply] = reply
        r.run()
        #expect(r.variable("a") == .string("busy here"))
        #expect(r.variable("b") == .int(486))
        #expect(r.variable("c") == .string("sip:alice@example.com"), "<request> in a request route reads the request")
        #expect(r.variable("d") == .string("BUSY HERE"))
        #expect(r.variable("e") == .null)
        #expect(r.log.contains { $0.contains("reply says busy here to sip:alice@example.com") }, "\(r.log)")
    }

    @Test func contextWithoutTheOtherMessageReadsNull() throws {
        var r = try Run("route { $var(a) = $(<reply>hdr(X-Reason)); if ($(<reply>rs) == NULL) { $var(b) = 1; } }")
        r.run()
        #expect(r.variable("a") == .null)
        #expect(r.variable("b") == .int(1))
    }
}

/// Messages for what OpenSIPS's older example scripts write (issue 15, `tandem check` over examples).
@Suite struct ExampleScriptMessageTests {
    @Test func removedDebugParameterNamesItsReplacement() {
        let r = check("debug=3\nroute { exit; }", file: "old.cfg")
        #expect(r.diagnostics.map(\.description) == ["old.cfg:1:1: global parameter 'debug' was removed in OpenSIPS 2.3: use 'log_level'"])
    }
}

@Suite struct SingleLabelHostTests {
    @Test func oneLabelNameBesideAnAddressVariable() throws {
        let msg = TestMessage()
        msg.values[.sourceIP] = .string("127.0.0.1")
        var r = try Run("""
        route {
            if (src_ip == localhost) { $var(a) = 1; }
            if ($si != LocalHost) { $var(b) = 1; }
        }
        """, message: msg)
        #expect(r.script.hostNames.map(\.name) == ["localhost"])
        r.script.resolveHostNames { $0 == "localhost" ? ["127.0.0.1"] : [] }
        r.run()
        #expect(r.variable("a") == .int(1))
        #expect(r.variable("b") == .null)
    }

    @Test func bareWordElsewhereIsStillAnError() {
        let r = check(prelude + "route { if ($var(x) == localhost) { exit; } }")
        #expect(r.diagnostics.map(\.message).contains("unexpected identifier 'localhost'"))
    }
}

@Suite struct ModparamHintTests {
    @Test func oldTimerNamesAndTyposGetAHint() {
        let r = check("""
        loadmodule "tm.so"
        modparam("tm", "fr_inv_timer", 15)
        modparam("tm", "fr_timout", 10)
        route { exit; }
        """, file: "fork.cfg")
        #expect(r.diagnostics.map(\.description) == [
            "fork.cfg:2:1: unknown parameter 'fr_inv_timer' for module 'tm' (now 'fr_inv_timeout')",
            "fork.cfg:3:1: unknown parameter 'fr_timout' for module 'tm' (did you mean 'fr_timeout'?)",
        ])
    }
}
