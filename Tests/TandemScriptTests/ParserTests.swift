import Testing
@testable import TandemScript

@Suite struct ParserTests {
    @Test func lexerPositionsAndComments() {
        var lx = Lexer(source: "# comment\n  route /* block\n comment */ { // line\n\t$var(x) = \"a\\tb\"; }", file: "f.cfg")
        let toks = lx.tokenize()
        #expect(lx.diagnostics.isEmpty)
        #expect(toks[0].kind == .identifier("route"))
        #expect(toks[0].location == SourceLocation(file: "f.cfg", line: 2, column: 3))
        #expect(toks[1].kind == .punct(.lbrace))
        #expect(toks[1].location.line == 3)
        #expect(toks[2].kind == .pseudoVar("var(x)"))
        #expect(toks[2].location == SourceLocation(file: "f.cfg", line: 4, column: 2))
        #expect(toks[4].kind == .string("a\tb"))
    }

    @Test func lexerOperators() {
        var lx = Lexer(source: "== != =~ !~ <= >= << >> && || += -= := + - * / % & | ^ ~ ! < > = 0x1F 42", file: "f")
        let kinds = lx.tokenize().map(\.kind)
        let expected: [Punct] = [.eq, .ne, .match, .noMatch, .le, .ge, .shl, .shr, .and, .or, .plusAssign, .minusAssign,
                                 .colonAssign, .plus, .minus, .star, .slash, .percent, .amp, .pipe, .caret, .tilde, .not,
                                 .lt, .gt, .assign]
        #expect(Array(kinds.prefix(expected.count)) == expected.map { .punct($0) })
        #expect(kinds[expected.count] == .integer(31))
        #expect(kinds[expected.count + 1] == .integer(42))
    }

    @Test func globalsModulesAndRoutes() throws {
        let src = """
        log_level=3
        udp_workers = 4
        socket=udp:127.0.0.1:5060
        listen = udp:*:5070 as 1.2.3.4:5060
        debug_mode = yes
        dns = off
        alias = "example.com"
        mpath = "/usr/lib/opensips/modules/"
        loadmodule "tm.so"
        loadmodule "/usr/lib/opensips/modules/sl.so"
        loadmodule "proto_udp.so"
        modparam("tm", "fr_timeout", 5)
        modparam("tm", "fr_inv_timeout", 30)
        modparam("tm", "T1_timer", 500)
        route { exit; }
        route[named] { return(1); }
        failure_route[f1] { }
        onreply_route { }
        onreply_route[r1] { }
        branch_route[b1] { }
        startup_route { }
        timer_route[tick, 60] { }
        error_route { }
        local_route { }
        """
        let r = check(src)
        #expect(r.diagnostics.map(\.description) == [])
        let c = r.config
        #expect(c.logLevel == 3)
        #expect(c.udpWorkers == 4)
        #expect(c.sockets == [ScriptSocket(proto: "udp", host: "127.0.0.1", port: 5060, advertised: nil),
                              ScriptSocket(proto: "udp", host: "*", port: 5070, advertised: "1.2.3.4:5060")])
        #expect(c.debugMode)
        #expect(!c.dns)
        #expect(c.aliases == ["example.com"])
        #expect(c.mpath == "/usr/lib/opensips/modules/")
        #expect(c.modules == ["tm", "sl", "proto_udp"])
        #expect(c.modparam("tm", "fr_timeout") == .int(5))
        #expect(c.modparam("tm", "T1_timer") == .int(500))
        #expect(c.frTimeout == 5 && c.frInviteTimeout == 30 && c.t1Milliseconds == 500 && c.t2Milliseconds == 4000)
        let s = try #require(r.script)
        #expect(s.routeNames.count == 10)
        #expect(s.timerRoutes.first?.interval == 60)
        #expect(s.startupRoute != nil && s.errorRoute != nil && s.localRoute != nil && s.mainReplyRoute != nil)
        #expect(s.route(named: "r1", kind: .onReply) != nil)
    }

    @Test func astShapes() {
        var p = Parser(source: """
        route {
            if (a()) { b(); } else if ($var(x) == 1) c(); else { d(); }
            $var(y) := NULL;
            async(sleep(1), res);
            launch(exec("x"), rep, "p");
            route(r, 1, "two");
            switch ($rm) { case "INVITE": break; default: exit; }
        }
        """, file: "f")
        let ast = p.parse()
        #expect(p.diagnostics.isEmpty)
        guard case .route(let r) = ast.items[0] else { Issue.record("no route"); return }
        #expect(r.body.count == 6)
        if case .ifElse(_, _, let e) = r.body[0].kind, let e, case .ifElse = e[0].kind {} else { Issue.record("else-if") }
        if case .assign(let t, .colonAssign, let v) = r.body[1].kind, case .null = v.kind { #expect(t.spec.name == "var") }
        else { Issue.record("assign") }
        if case .async(let c, "res", _, nil) = r.body[2].kind { #expect(c.name == "sleep") } else { Issue.record("async") }
        if case .launch(let c, "rep", _, let prm?) = r.body[3].kind, case .string("p") = prm.kind { #expect(c.name == "exec") }
        else { Issue.record("launch") }
        if case .routeCall("r", let args) = r.body[4].kind { #expect(args.count == 2) } else { Issue.record("route") }
        if case .switchBlock(_, let cases) = r.body[5].kind { #expect(cases.count == 2) } else { Issue.record("switch") }
        #expect(r.body[1].location == SourceLocation(file: "f", line: 3, column: 5))
    }

    @Test("force_send_socket takes a bare socket literal (OpenSIPS grammar) as its text; other arguments parse as usual")
    func bareSocketLiteral() throws {
        for text in ["tcp:127.0.0.1:5070", "udp:[::1]:5060", "10.0.0.1:5060", "tls:proxy.example.com:5061", "TCP:10.0.0.1"] {
            var p = Parser(source: "force_send_socket(\(text))", file: "f")
            let e: Expr
            do { e = try p.parseExpr() } catch { Issue.record("\(text): \(error)"); continue }
            guard case .call(let call) = e.kind, call.args.count == 1, case .string(let literal) = call.args[0].kind else {
                Issue.record("\(text): \(e.kind)"); continue
            }
            #expect(literal == text)
        }
        var quoted = Parser(source: "force_send_socket(\"tcp:1.2.3.4:5\")", file: "f")
        if case .call(let call) = try quoted.parseExpr().kind, case .string(let s) = call.args[0].kind {
            #expect(s == "tcp:1.2.3.4:5")
        } else { Issue.record("quoted") }
        var variable = Parser(source: "force_send_socket($var(s))", file: "f")
        if case .call(let call) = try variable.parseExpr().kind, case .pv = call.args[0].kind {} else { Issue.record("pv") }
    }

    @Test func precedence() {
        var p = Parser(source: "1 + 2 * 3 == 7 && !$x || 0", file: "f")
        let e = try? p.parseExpr()
        // ((1 + (2*3)) == 7 && !$x) || 0
        guard case .binary(.or, let lhs, _)? = e?.kind, case .binary(.and, let eq, let not) = lhs.kind,
              case .binary(.equal, let sum, _) = eq.kind, case .binary(.add, _, let mul) = sum.kind,
              case .binary(.multiply, _, _) = mul.kind, case .unary(.not, _) = not.kind else {
            Issue.record("wrong tree")
            return
        }
    }
}
