import Testing
@testable import TandemScript

/// `tandem check` messages for OpenSIPS syntax Tandem lacks, and for unclosed blocks (issue 15).
@Suite struct CheckMessageTests {
    private func diags(_ src: String) -> [String] { check(src, file: "m.cfg").diagnostics.map(\.description) }

    @Test func dottedAndOpenSIPSOnlyPseudoVariablesAreNamedPlainly() {
        let r = check("""
        route {
            if ($msg.branch.foo == 1) { exit; }
            $var(a) = $(sdp.stream.bar(c=)[1]);
            xlog("flags $bF $dd\\n");
            $var(b) = $nosuch;
        }
        """, file: "m.cfg")
        #expect(r.diagnostics.map(\.description) == [
            "m.cfg:2:9: '$msg.branch.foo' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "m.cfg:3:15: '$(sdp.stream.bar(c=)[1])' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "m.cfg:4:10: '$bF' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "m.cfg:4:10: '$dd' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "m.cfg:5:15: unknown pseudo-variable '$nosuch'",
        ])
        #expect(r.missing.map(\.name) == ["$msg.branch.foo", "$(sdp.stream.bar(c=)[1])", "$bF", "$dd", "$nosuch"])
        // A dot after any other variable is still text: "$rU.example".
        #expect(diags("route { xlog(\"$rU.example $var(x).y\\n\"); }") == [])
    }

    /// Found running OpenSIPS's own examples (examples/opensips-redirect-server-CT.cfg, pstn.cfg,
    /// logging.cfg, etc/opensips.cfg): `append_to_reply` is sipmsgops' in OpenSIPS, `is_user_in` is named
    /// as the group module's, `port` and `xlog_level` are global parameters.
    @Test func examplesSweepFindings() {
        #expect(diags("""
        port=5060
        xlog_level=3
        loadmodule "tm.so"
        loadmodule "sipmsgops.so"
        route { append_to_reply("Contact: <sip:a@b>\\r\\n"); t_reply(302, "Moved"); }
        """) == [])
        let r = check("loadmodule \"sl.so\"\nroute { if (is_user_in(\"Request-URI\", \"free-pstn\")) { exit; } }", file: "m.cfg")
        #expect(r.diagnostics.map(\.description) == [
            "m.cfg:2:13: 'is_user_in' is an OpenSIPS 3.6 function (module group) that Tandem does not support yet",
        ])
    }

    /// Audit of the 3.6 core variables page: `$auth.*`, `$challenge.*`, `$err.*` were a syntax error at
    /// the dot; they and `$ru_q`, `$return(n)`, `$route`, `$path` are named as 3.6 variables Tandem lacks.
    @Test func coreVariablesTandemLacksAreNamed() {
        let r = check("""
        route { $var(a) = $auth.nonce; $var(b) = $err.class; $var(c) = $challenge.realm; $var(d) = $ru_q; xlog("$route $path $tm.branch.attr(x)"); }
        """, file: "m.cfg")
        #expect(r.diagnostics.map(\.message) == [
            "'$auth.nonce' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "'$err.class' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "'$challenge.realm' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "'$ru_q' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "'$route' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "'$path' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "'$tm.branch.attr(x)' is OpenSIPS 3.6 syntax that Tandem does not support yet",
        ])
        #expect(diags("loadmodule \"tm.so\"\nfailure_route[f] { $var(a) = $(<reply>sdp); }\nroute { t_on_failure(\"f\"); t_relay(); }")
                == [])
        #expect(diags("loadmodule \"tm.so\"\nfailure_route[f] { $var(a) = $(<answer>sdp); }\nroute { t_on_failure(\"f\"); t_relay(); }")
                == ["m.cfg:2:30: unknown context in '$(<answer>sdp)': a pseudo-variable context is <request> or <reply>"])
        #expect(diags("loadmodule \"tm.so\"\nfailure_route[f] { $var(a) = $(<reply>var(x)); }\nroute { t_on_failure(\"f\"); t_relay(); }")
                == ["m.cfg:2:30: '$(<reply>var(x))': a <reply> context only applies to variables read from a SIP "
                    + "message (headers, URIs, $rs, $si, the body…), not to '$var'"])
        #expect(diags("loadmodule \"tm.so\"\nonreply_route[r] { $(<request>ru) = \"sip:x@y\"; }\nroute { t_on_reply(\"r\"); t_relay(); }")
                == ["m.cfg:2:20: pseudo-variable '$(<request>ru)' is read-only"])
    }

    @Test func innermostUnclosedBlockAtEndOfFile() {
        #expect(diags("""
        route {
            if ($var(a) == 1) {
                if ($var(b) == 2) {
                    xlog("x");
        """) == ["m.cfg:3:27: missing '}' to close this block"])
    }

    @Test func unclosedIfFoundByIndentation() {
        #expect(diags("""
        route {
            if ($var(a) == 1) {
                xlog("x");
            xlog("y");
        }

        route[other] {
            exit;
        }
        """) == ["m.cfg:2:23: missing '}' to close this block"])
        #expect(diags("""
        route {
            if ($var(a) == 1) {
                xlog("x");
            xlog("y");
        }
        """) == ["m.cfg:2:23: missing '}' to close this block"])
    }

    @Test func forEachLoops() throws {
        #expect(diags("route { for ($var(x) in $(avp(y)[*])) { break; } for ($ci in $avp(y)) { } }")
                == ["m.cfg:1:55: loop variable '$ci' must be writable"])
        var r = try Run("""
        route {
            $avp(y) = 1; $avp(y) = 2; $avp(y) = 3;
            $var(sum) = 0; $var(order) = "";
            for ($var(v) in $(avp(y)[*])) { $var(sum) += $var(v); $var(order) = $var(order) + $var(v); }
            $var(n) = 0;
            for ($var(h) in $(hdr(Via)[*])) { $var(n) += 1; if ($var(n) == 1) break; }
            $var(one) = 0;
            for ($var(s) in $ci) { $var(one) += 1; }
        }
        """)
        r.run()
        #expect(r.variable("sum") == .int(6))
        #expect(r.variable("order") == .string("321"))
        #expect(r.variable("n") == .int(1))
        #expect(r.variable("one") == .int(1))
    }

    @Test func compoundAssignments() throws {
        var r = try Run("""
        route {
            $var(a) = 7; $var(a) *= 6; $var(b) = 45; $var(b) /= 4; $var(c) = 45; $var(c) %= 4;
            $var(d) = 12; $var(d) &= 10; $var(e) = 12; $var(e) |= 3; $var(f) = 12; $var(f) ^= 4;
        }
        """)
        r.run()
        #expect([r.variable("a"), r.variable("b"), r.variable("c"), r.variable("d"), r.variable("e"), r.variable("f")]
                == [.int(42), .int(11), .int(1), .int(8), .int(15), .int(8)])
    }
}

@Suite struct CheckHintTests {
    @Test func didYouMean() {
        let r = check(prelude + """
        route {
            xlgo("x");
            route(relya);
            $var(a) = $rU2;
            $var(b) = $RU;
        }
        route[relay] { }
        """, file: "m.cfg")
        #expect(r.diagnostics.map(\.message) == [
            "unknown function 'xlgo' (did you mean 'xlog'?)",
            "unknown route 'relya' (did you mean 'relay'?)",
            "unknown pseudo-variable '$rU2' (did you mean '$rU'?)",
            "unknown pseudo-variable '$RU' (did you mean '$rU'?)",
        ])
        #expect(Suggestions.closest(to: "frobnicate", in: ["xlog", "t_relay"]) == nil)
    }

    @Test func openSIPSFunctionsNamedWithTheirModule() {
        let r = check("route { send(\"udp:1.2.3.4\"); if (rtpengine_offer()) { exit; } assert($var(a) == 1, \"a\"); }", file: "m.cfg")
        #expect(r.diagnostics.map(\.message) == [
            "'send' is an OpenSIPS 3.6 core function that Tandem does not support yet",
            "'rtpengine_offer' is an OpenSIPS 3.6 function (module rtpengine) that Tandem does not support yet",
            "'assert' is an OpenSIPS 3.6 core function that Tandem does not support yet",
        ])
        #expect(r.missing.map(\.name) == ["send", "rtpengine_offer", "assert"])
    }

    @Test func functionsDroppedBefore36Named() {
        let r = check("route { if (!check_to()) { exit; } db_check_from(); db_is_to_authorized(\"uri\"); }", file: "m.cfg")
        #expect(r.diagnostics.map(\.message) == [
            "unknown function 'check_to' (not in OpenSIPS 3.6: compare $au with $tU, or auth_db's db_is_to_authorized(table))",
            "unknown function 'db_check_from' (not in OpenSIPS 3.6: compare $au with $fU, or auth_db's db_is_from_authorized(table))",
            "'db_is_to_authorized' is an OpenSIPS 3.6 function (module auth_db) that Tandem does not support yet",
        ])
    }

    @Test func repeatedErrorsAreCapped() {
        let body = String(repeating: "    nosuch_fn();\n", count: 7)
        let r = check("route {\n\(body)}\n", file: "m.cfg")
        #expect(r.diagnostics.map(\.description) == [
            "m.cfg:2:5: unknown function 'nosuch_fn'",
            "m.cfg:3:5: unknown function 'nosuch_fn'",
            "m.cfg:4:5: unknown function 'nosuch_fn'",
            "m.cfg:5:5: unknown function 'nosuch_fn' (and 4 more like this, not listed)",
        ])
        #expect(r.missing.count == 7)
    }
}

@Suite struct UnterminatedTests {
    /// A syntax error must not be followed by "unknown route" for routes defined after it.
    @Test func noKnockOnUnknownRouteAfterASyntaxError() {
        let r = check("""
        route {
            if ($var(a) == ) { exit; }
            route(later);
        }
        route[later] { exit; }
        failure_route[missed] { route(later); }
        """, file: "m.cfg")
        let messages = r.diagnostics.map(\.message)
        #expect(messages.count >= 1)
        #expect(r.diagnostics.first?.description.hasPrefix("m.cfg:2:") == true, "\(messages)")
        #expect(!messages.contains { $0.contains("unknown route") }, "\(messages)")
    }

    @Test func unterminatedStringHidesWhatItCauses() {
        let r = check("""
        route {
            $var(a) = $nosuch;
            xlog("abc);
            exit;
        }
        route[x] { route(y); }
        """, file: "m.cfg")
        #expect(r.diagnostics.map(\.description) == [
            "m.cfg:2:15: unknown pseudo-variable '$nosuch'",
            "m.cfg:3:10: unterminated string literal",
        ])
    }
}
