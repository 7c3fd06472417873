import Foundation
import Testing
@testable import TandemScript

/// OpenSIPS 3.6 grammar accepted in round 2 (issue 15).
@Suite struct GrammarRound2Tests {
    private func messages(_ r: CheckResult) -> [String] { r.diagnostics.map(\.description) }

    @Test func ipv4AndIPv6Literals() {
        var lx = Lexer(source: "10.0.0.0/8 192.168.1.10 [2001:db8::1] 2001:db8::/32 fe80::1 ::1 0.5 case 1: 10/2", file: "f")
        let kinds = lx.tokenize().map(\.kind)
        #expect(lx.diagnostics.isEmpty)
        #expect(Array(kinds.prefix(7)) == [.address("10.0.0.0/8"), .address("192.168.1.10"), .address("[2001:db8::1]"),
                                           .address("2001:db8::/32"), .address("fe80::1"), .address("::1"), .string("0.5")])
        #expect(Array(kinds[7..<13]) == [.identifier("case"), .integer(1), .punct(.colon), .integer(10), .punct(.slash), .integer(2)])
    }

    @Test func addressParsingAndNetworks() throws {
        #expect(IPAddress("2001:db8::1")?.description == "2001:db8::1")
        #expect(IPAddress("[2001:0db8:0:0:0:0:0:1]")?.description == "2001:db8::1")
        #expect(IPAddress("::ffff:10.1.2.3")?.bytes.suffix(4) == [10, 1, 2, 3])
        #expect(IPAddress("256.1.1.1") == nil)
        #expect(IPAddress("1::2::3") == nil)
        let net = try #require(IPNetwork("10.0.0.0/8"))
        #expect(net.contains(IPAddress("10.200.3.4")!))
        #expect(!net.contains(IPAddress("11.0.0.1")!))
        #expect(try #require(IPNetwork("2001:db8::/32")).contains(IPAddress("2001:db8:ffff::5")!))
        #expect(IPNetwork("10.0.0.0/33") == nil)
    }

    @Test func inNetworkComparisons() throws {
        let msg = TestMessage()
        msg.values[.sourceIP] = .string("10.20.30.40")
        var r = try Run("""
        route {
            if ($si == 10.0.0.0/8 || $si == 192.168.1.10) { $var(a) = 1; }
            if ($si != 172.16.0.0/12) { $var(b) = 1; }
            if ($si == 10.20.30.41) { $var(c) = 1; }
            $var(v6) = "2001:DB8:0::7";
            if ($var(v6) == 2001:db8::/32 && $var(v6) == [2001:db8::7]) { $var(d) = 1; }
            if ($var(v6) == 10.0.0.0/8) { $var(e) = 1; }
        }
        """, message: msg)
        r.run()
        #expect(r.variable("a") == .int(1))
        #expect(r.variable("b") == .int(1))
        #expect(r.variable("c") == .null)
        #expect(r.variable("d") == .int(1))
        #expect(r.variable("e") == .null)
    }

    @Test func booleanWordsAsValues() throws {
        let r = check("""
        debug_mode = yes
        dns = off
        loadmodule "tm.so"
        modparam("tm", "onreply_avp_mode", on)
        modparam("tm", "auto_100trying", false)
        route { $var(t) = true; $var(f) = false; if (true && !false) { exit; } }
        """)
        #expect(messages(r) == [])
        var run = try Run("route { $var(t) = true; $var(f) = false; }")
        run.run()
        #expect(run.variable("t") == .int(1))
        #expect(run.variable("f") == .int(0))
    }

    @Test func routeZeroIsTheMainRoute() throws {
        let r = check("route[0] { exit; }\nroute[other] { }")
        #expect(messages(r) == [])
        let script = try #require(r.script)
        #expect(script.routeLabels[script.mainRoute.rawValue] == "request")
    }

    @Test func scriptWithoutMainRouteIsAWarning() throws {
        let r = check("startup_route { xlog(\"up\"); }")
        #expect(!r.hasErrors)
        #expect(messages(r) == ["test.cfg:1:1: no main route block 'route { ... }': requests will not be routed"])
        let script = try #require(r.script)
        #expect(script.startupRoute != nil)
        #expect(script.routeLabels[script.mainRoute.rawValue] == "request")
        // Still an error when there is no route at all.
        #expect(check("log_level = 3").hasErrors)
    }

    @Test func variableNegativeAndStarIndexes() throws {
        var r = try Run("""
        route {
            $avp(x) = "a"; $avp(x) = "b"; $avp(x) = "c";
            $var(i) = 1;
            $var(second) = $(avp(x)[$var(i)]);
            $var(oldest) = $(avp(x)[-1]);
            $var(viaLast) = $(hdr(Via)[-1]);
            $var(viaAll) = $(hdr(Via)[*]);
            $var(j) = 2;
            $var(viaJ) = $hdr(Via)[$var(j)];
            $(avp(x)[$var(i)]) = "B";
            $var(afterSet) = $(avp(x)[1]);
            $(avp(x)[*]) = NULL;
            $var(gone) = $avp(x);
        }
        """)
        r.run()
        #expect(r.variable("second") == .string("b"))
        #expect(r.variable("oldest") == .string("a"))
        #expect(r.variable("viaLast") == .string("SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2"))
        #expect(r.variable("viaAll") == .string("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1,SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2"))
        #expect(r.variable("viaJ") == .null)
        #expect(r.variable("afterSet") == .string("B"))
        #expect(r.variable("gone") == .null)
        #expect(r.avp("x") == [])
    }

    @Test func emptyPositionalArguments() throws {
        let r = check(prelude + """
        route {
            exec("ls", , $var(out));
            xlog(, "x");
        }
        """)
        #expect(r.diagnostics.map(\.message) == ["argument 1 of 'xlog' is required and cannot be left empty"])
        var lx = Parser(source: "route { f(a, , c); }", file: "t")
        let ast = lx.parse()
        guard case .route(let block) = ast.items.first, case .call(let c) = block.body.first?.kind else {
            Issue.record("no call parsed"); return
        }
        #expect(c.args.count == 3)
        if case .omitted = c.args[1].kind {} else { Issue.record("argument 2 should be omitted") }
    }

    @Test func includeAndImportFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-include-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "route[helper] { $var(h) = 1; }\ninclude_file \"common.cfg\"\nimport_file \"optional.cfg\"\n"
            .write(to: dir.appendingPathComponent("sub/helpers.cfg"), atomically: true, encoding: .utf8)
        try "route[common] { $var(c) = 2; }\n".write(to: dir.appendingPathComponent("sub/common.cfg"), atomically: true, encoding: .utf8)
        try "\n\nroute[broken] {\n  $var(x) = ;\n}\n".write(to: dir.appendingPathComponent("sub/broken.cfg"), atomically: true, encoding: .utf8)
        let main = dir.appendingPathComponent("main.cfg").path
        let ok = ScriptChecker().check(source: """
        include_file "sub/helpers.cfg"
        import_file "sub/absent.cfg"
        route { route(helper); route(common); }
        """, fileName: main)
        #expect(messages(ok) == [])
        let twice = ScriptChecker().check(source: "include_file \"sub/helpers.cfg\"\nimport_file \"sub/common.cfg\"\nroute { }\n",
                                          fileName: main)
        #expect(messages(twice) == ["\(dir.path)/sub/common.cfg:1:1: duplicate definition of route[common]"])
        let bad = ScriptChecker().check(source: "include_file \"sub/broken.cfg\"\ninclude_file \"nope.cfg\"\nroute { }\n", fileName: main)
        let texts = messages(bad)
        #expect(texts.contains { $0.hasPrefix(dir.path + "/sub/broken.cfg:4:") && $0.contains("expected an expression") })
        #expect(texts.contains("\(main):2:1: include_file: cannot read '\(dir.path)/nope.cfg': No such file or directory"))
        // An unclosed block in an included file is reported there and does not swallow the next route.
        try "route[open] {\n    if (1) {\n        exit;\n}\n".write(to: dir.appendingPathComponent("open.cfg"), atomically: true, encoding: .utf8)
        let open = ScriptChecker().check(source: "include_file \"open.cfg\"\nroute { route(open); }\n", fileName: main)
        #expect(messages(open) == ["\(dir.path)/open.cfg:2:12: missing '}' to close this block"])
    }

    @Test func messageLengthKeyword() throws {
        let msg = TestMessage()
        msg.values[.message] = .string("INVITE sip:a@b SIP/2.0\r\n\r\n")
        var r = try Run("route { if (msg:len > 20) { $var(big) = 1; } $var(len) = msg:len; }", message: msg)
        r.run()
        #expect(r.variable("big") == .int(1))
        #expect(r.variable("len") == .int(26))
    }

    @Test func verifiedExistingGrammar() throws {
        var r = try Run("""
        route {
            $var(s) = "abc";
            switch ($var(s)) {
                case "abc": $var(sw) = "str"; break;
                default: $var(sw) = "default";
            }
            $var(i) = 0; $var(sum) = 0;
            while ($var(i) < 10) { $var(i) += 1; if ($var(i) == 5) break; $var(sum) += $var(i); }
            $var(cat) = "a" + $var(s) + 1;
            $var(bits) = (6 & 3) | (1 << 3) ^ 1;
            if ($var(s) =~ "^A") { $var(re) = 1; }
            $var(len) = $(var(s){s.len});
        }
        """)
        r.run()
        #expect(r.variable("sw") == .string("str"))
        #expect(r.variable("sum") == .int(10))
        #expect(r.variable("cat") == .string("aabc1"))
        #expect(r.variable("bits") == .int(11))
        #expect(r.variable("re") == .int(1))
        #expect(r.variable("len") == .int(3))
    }
}
