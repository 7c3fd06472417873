import Testing
@testable import TandemScript

@Suite struct CheckerTests {
    func diags(_ src: String) -> [String] { check(src, file: "bad.cfg").diagnostics.map(\.description) }

    @Test func diagnosticFormat() {
        let d = Diagnostic(SourceLocation(file: "a.cfg", line: 3, column: 7), "boom")
        #expect(d.description == "a.cfg:3:7: boom")
    }

    @Test func everySemanticErrorIsReported() {
        let src = """
        bogus_param = 1
        log_level = 9
        loadmodule "tm.so"
        loadmodule "rtpengine.so"
        loadmodule "sl.so"
        modparam("tm", "no_such", 1)
        modparam("rr", "append_fromtag", 1)
        modparam("rtpengine", "rtpengine_sock", 2)
        route {
            frobnicate();
            t_relay(1, 2);
            sl_send_reply("abc", "x");
            route(nowhere);
            t_on_failure("nope");
            async(t_relay(), resume);
            async(sleep(1), fr);
            $ci = "x";
            $foo = 1;
            xlog("$bar");
            record_route();
            if ($ru =~ "([") { exit; }
            break;
            $var(x) = $(hdr(From){s.xor,k});
        }
        route[resume] { }
        failure_route[fr] { async(sleep(1), resume); }
        branch_route[b] { async(sleep(1), resume); t_newtran(); }
        """
        #expect(diags(src) == [
            "bad.cfg:1:1: unknown global parameter 'bogus_param'",
            "bad.cfg:2:1: global parameter 'log_level' needs an integer in -3...4",
            "bad.cfg:4:12: module 'rtpengine' is not available in Tandem",
            "bad.cfg:6:1: unknown parameter 'no_such' for module 'tm'",
            "bad.cfg:7:1: modparam for module 'rr' which is not loaded",
            "bad.cfg:10:5: unknown function 'frobnicate'",
            "bad.cfg:11:5: function 't_relay' expects 0 to 1 arguments, got 2",
            "bad.cfg:12:19: argument 1 of 'sl_send_reply' must be an integer",
            "bad.cfg:13:5: unknown route 'nowhere'",
            "bad.cfg:14:18: unknown failure_route 'nope'",
            "bad.cfg:15:11: function 't_relay' has no async form and cannot be used in async()",
            "bad.cfg:16:11: function 'sleep' needs module 'cfgutils' to be loaded",
            "bad.cfg:16:21: resume route 'fr' must be a plain route[...], not failure_route",
            "bad.cfg:17:5: pseudo-variable '$ci' is read-only",
            "bad.cfg:18:5: unknown pseudo-variable '$foo'",
            "bad.cfg:19:11: unknown pseudo-variable '$bar' (did you mean '$ar'?)",
            "bad.cfg:20:5: function 'record_route' needs module 'rr' to be loaded",
            "bad.cfg:21:16: invalid regular expression '([': Invalid regular expression",
            "bad.cfg:22:5: 'break' outside of a loop or switch",
            "bad.cfg:23:15: transformation '{s.xor,k}' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "bad.cfg:26:27: function 'sleep' needs module 'cfgutils' to be loaded",
            "bad.cfg:27:19: async() is not allowed in branch_route",
            "bad.cfg:27:25: function 'sleep' needs module 'cfgutils' to be loaded",
            "bad.cfg:27:44: function 't_newtran' cannot be used in branch_route",
        ])
    }

    @Test func missingFeaturesListed() {
        let r = check("""
        loadmodule "tm.so"
        loadmodule "rtpengine.so"
        loadmodule "dialog.so"
        route {
            if (!rtpengine_offer()) { t_reply(404, "Not Found"); exit; }
            rtpengine_answer();
            $var(u) = $(ru{s.xor,k});
            rtpengine_offer();
        }
        event_route[E_UL_CONTACT_INSERT] { }
        """, file: "res.cfg")
        #expect(r.missing.map(\.description) == [
            "res.cfg:2: module 'rtpengine'",
            "res.cfg:3: module 'dialog'",
            "res.cfg:5: function 'rtpengine_offer'",
            "res.cfg:6: function 'rtpengine_answer'",
            "res.cfg:7: transformation '{s.xor,k}'",
            "res.cfg:8: function 'rtpengine_offer'",
            "res.cfg:10: route type 'event_route'",
        ])
        #expect(r.script == nil)
    }

    @Test func syntaxErrorsAllReportedWithRecovery() {
        let src = """
        route {
            $var(a) = ;
            xlog("ok");
            if ($var(a) == 1 { exit; }
            $var(b) = 2
            t_relay();
            foo bar;
        }
        route[x] {
            return(1);
        """
        #expect(diags(src) == [
            "bad.cfg:2:15: expected an expression, found ';'",
            "bad.cfg:4:22: expected ')' after if condition, found '{'",
            "bad.cfg:5:15: expected ';' after statement, found 't_relay'",
            "bad.cfg:7:5: unexpected 'foo'; expected a statement",
            "bad.cfg:9:10: missing '}' to close this block",
        ])
    }

    @Test func asyncRouteTypesAllowed() {
        let ok = check(prelude + """
        route { async(sleep(1), resume); }
        failure_route[f] { async(usleep(10), resume); }
        onreply_route { async(rest_get("http://x", $var(b)), resume); }
        route[resume] { xlog("resumed"); }
        """)
        #expect(ok.diagnostics.map(\.description) == [])
        let bad = check(prelude + """
        route { route(helper); }
        route[helper] { async(sleep(1), resume); }
        route[resume] { }
        startup_route { route(helper); }
        """, file: "x.cfg")
        #expect(bad.diagnostics.map(\.message) == ["async() is not allowed in startup_route"])
    }

    @Test func missingMainRoute() {
        #expect(diags("route[x] { }") == ["bad.cfg:1:1: no main route block 'route { ... }': requests will not be routed"])
        #expect(diags("log_level = 3") == ["bad.cfg:1:1: missing main route block 'route { ... }'"])
    }

    @Test func duplicatesAndShapes() {
        #expect(diags("""
        route { }
        route { }
        failure_route { }
        timer_route[t] { }
        route[a] { switch (1) { case 1: break; case 1: break; default: exit; default: exit; } }
        """) == [
            "bad.cfg:2:1: duplicate definition of route",
            "bad.cfg:3:1: failure_route needs a name, e.g. failure_route[name]",
            "bad.cfg:4:1: timer_route needs a name and an interval, e.g. timer_route[name, 60]",
            "bad.cfg:5:40: duplicate case label '1'",
            "bad.cfg:5:70: more than one 'default' in switch",
        ])
    }

    @Test func argumentKinds() {
        #expect(diags(prelude + """
        route {
            xlog(L_BOGUS, "x");
            cache_fetch("local", "k", $ci);
            append_hf(hello);
            setflag($var(f));
            t_on_failure($var(r));
            xlog("a" + "b");
            avp_db_query("select", "$avp(a);$ru;junk");
        }
        """).map { String($0.drop { $0 != ":" }.dropFirst()) } == [
            "14:10: argument 1 of 'xlog' must be a log level (L_ALERT ... L_DBG)",
            "15:31: argument 3 of 'cache_fetch' must be a writable pseudo-variable",
            "16:15: argument 1 of 'append_hf': unexpected identifier 'hello' (strings must be quoted)",
            "18:18: argument 1 of 't_on_failure' must be a route name",
            "19:10: argument 1 of 'xlog' must be a literal or a pseudo-variable",
            "20:28: argument 2 of 'avp_db_query': 'junk' is not a pseudo-variable",
        ])
    }

    @Test func unclosedMainRouteStillChecked() {
        #expect(diags("route {\n    foo();\n") == [
            "bad.cfg:1:7: missing '}' to close this block",
            "bad.cfg:2:5: unknown function 'foo'",
        ])
    }

    @Test func typedGlobalsAndModparamsOfUnavailableModules() {
        let r = check("""
        tcp_workers = 2
        disable_tcp = yes
        mhomed = 1
        async_timeout = 3
        rev_dns = on
        auto_aliases = off
        children = 6
        socket = bogus:
        loadmodule "dialog.so"
        modparam("dialog", "db_mode", 1)
        modparam("presence", "x", 1)
        route { }
        """, file: "g.cfg")
        #expect(r.diagnostics.map(\.description) == [
            "g.cfg:8:1: invalid socket 'bogus:' (expected proto:host:port)",
            "g.cfg:9:12: module 'dialog' is not available in Tandem",
            "g.cfg:11:1: module 'presence' is not available in Tandem",
        ])
        let c = r.config
        #expect(c.tcpWorkers == 2 && c.disableTCP && c.mhomed && c.asyncTimeout == 3 && c.reverseDNS && !c.autoAliases)
        #expect(c.udpWorkers == 6)
        #expect(c.global("children") == .int(6))
    }
}

@Suite struct InterpolationPositionTests {
    @Test func pvInsideStringPointsAtDollar() {
        let d = check("route { xlog(\"a=$var(a) b=$nope c\"); }", file: "p.cfg").diagnostics.map(\.description)
        #expect(d == ["p.cfg:1:27: unknown pseudo-variable '$nope'"])
    }
}

@Suite struct RouteReferenceTests {
    @Test func everyRouteReferenceIsResolved() {
        let d = check(prelude + """
        route {
            t_on_reply("r_missing");
            t_on_branch("b_missing");
            t_on_reply("fr");
            launch(exec("x"), nowhere);
            launch(exec("x"), br, "p");
            launch(t_relay());
            async(exec("x"), nowhere);
            sl_reply_error();
            setflag(64);
        }
        failure_route[fr] { }
        branch_route[br] { }
        """, file: "r.cfg").diagnostics.map(\.message)
        #expect(d == [
            "unknown onreply_route 'r_missing'",
            "unknown branch_route 'b_missing'",
            "unknown onreply_route 'fr'",
            "unknown route 'nowhere'",
            "report route 'br' must be a plain route[...], not branch_route",
            "function 't_relay' has no async form and cannot be used in launch()",
            "unknown route 'nowhere'",
            "argument 1 of 'setflag': flag number must be in 0...63",
        ])
    }
}
