import Testing
@testable import TandemScript

/// Issue 15, last round: branch flags (`setbflag`/`resetbflag`/`isbflagset` with a branch index, `$bf`,
/// `$branch.flag(name)`), `$msg.branch.*`, `forward()`, `serialize_branches`/`next_branches`, and the
/// sipmsgops header families `remove_hf_re`/`remove_hf_glob`/`is_present_hf_re`/`is_present_hf_glob`.
@Suite struct BranchFlagAndHeaderMatchTests {
    @Test func branchFlagsByIndexAndList() throws {
        var r = try Run("""
        route {
            setbflag(NAT); setbflag(3);
            if (isbflagset(NAT)) $var(a) = 1;
            $var(list) = $bf;
            resetbflag(3);
            $var(after) = $bf;
            setbflag(NAT, 1);
            if (isbflagset(NAT, 1)) $var(b) = 1;
            if (!setbflag(NAT, 5)) $var(nobranch) = 1;
            $branch.flag(VOICEMAIL) = 1;
            $var(vm) = $branch.flag(VOICEMAIL);
            $branch.flag(VOICEMAIL) = 0;
            $var(vm2) = $branch.flag(VOICEMAIL);
            if (!isflagset(NAT)) $var(msgflag) = 0;
        }
        """)
        r.proxy.branchFlagSets = [0, 0]
        r.run()
        let nat = try #require(r.script.flagBits["NAT"])
        #expect(r.variable("a") == .int(1))
        #expect(r.variable("list") == .string(nat < 3 ? "NAT 3" : "3 NAT"))
        #expect(r.variable("after") == .string("NAT"))
        #expect(r.variable("b") == .int(1))
        #expect(r.proxy.branchFlagSets[1] == 1 << UInt64(nat))
        #expect(r.variable("nobranch") == .int(1))
        #expect(r.variable("vm") == .int(1))
        #expect(r.variable("vm2") == .int(0))
        // Branch flags are not message flags.
        #expect(r.variable("msgflag") == .int(0))
        #expect(r.message.flags == 0)
    }

    @Test func forwardCallsTheProxy() throws {
        var r = try Run("route { forward(); forward(\"sip:10.0.0.7:5070\"); }")
        r.run()
        #expect(r.proxy.calls == ["forward -", "forward sip:10.0.0.7:5070"])
    }

    @Test func headerFamiliesByRegexAndGlob() throws {
        let message = TestMessage()
        message.headers += [("X-Foo-1", "a"), ("X-Foo-2", "b"), ("P-Asserted-Identity", "<sip:a@b>"), ("X-Bar", "c")]
        var r = try Run("""
        route {
            if (is_present_hf_re("^x-foo-[0-9]$")) $var(re) = 1;
            if (is_present_hf_glob("p-*-identity")) $var(glob) = 1;
            if (!is_present_hf_re("^x-none")) $var(none) = 1;
            remove_hf_re("^X-Foo-[0-9]+$");
            remove_hf_glob("x-b?r");
            if (!remove_hf_glob("x-*")) $var(nothing_left) = 1;
            $var(pattern) = "^p-asserted";
            if (remove_hf_re($var(pattern))) $var(dyn) = 1;
        }
        """, message: message)
        r.run()
        #expect(r.variable("re") == .int(1))
        #expect(r.variable("glob") == .int(1))
        #expect(r.variable("none") == .int(1))
        #expect(r.variable("nothing_left") == .int(1))
        #expect(r.variable("dyn") == .int(1))
        #expect(message.headers.map(\.name) == ["Via", "Via", "Max-Forwards", "User-Agent"])
    }

    @Test func globMatcher() {
        func m(_ p: String, _ t: String) -> Bool { Glob.matches(Array(p.utf8), Array(t.utf8)) }
        #expect(m("x-*", "x-foo"))
        #expect(m("*id*", "p-asserted-identity"))
        #expect(m("v?a", "via"))
        #expect(!m("v?a", "vias"))
        #expect(m("*", ""))
        #expect(!m("a*b", "acd"))
    }

    @Test func checkerKnowsTheNewFunctionsAndVariables() {
        let r = check(prelude + """
        route {
            setbflag(NAT); resetbflag(NAT, 1); if (isbflagset(NAT)) { xlog("$bf $branch.flag(NAT)\\n"); }
            $var(u) = $(msg.branch.uri[1]); $var(q) = $msg.branch.q;
            serialize_branches(1); next_branches(); forward();
            remove_hf_re("^X-"); remove_hf_glob("X-*"); is_present_hf_re("^X-");
        }
        failure_route[f] { if (next_branches()) { t_relay(); } }
        """)
        #expect(r.diagnostics.map(\.description) == [])
        #expect(r.missing.isEmpty)
    }
}
