import Testing
@testable import TandemScript

@Suite struct InterpreterTests {
    @Test func assignmentsAndArithmetic() throws {
        var r = try Run("""
        route {
            $var(a) = 4 + (7 & (~2));
            $var(b) = 2 + 3 * 4;
            $var(c) = (2 + 3) * 4;
            $var(d) = 17 % 5 - 10 / 3;
            $var(e) = 1 << 4 | 1;
            $var(f) = 6 ^ 3;
            $var(g) = 256 >> 2;
            $var(h) = "sip:" + "bob" + "@" + 5;
            $var(i) = 10; $var(i) += 5; $var(i) -= 3;
            $var(j) = -7 + 2;
            $var(k) = 1 / 0;
            $var(l) = "x"; $var(l) += "y";
            $var(m) = 3 - 2 - 1;
            $var(n) = 1 + 2 == 3;
            $var(o) = 1 || 0 && 0;
        }
        """)
        #expect(r.run().name == "finished")
        #expect(r.variable("a") == .int(9))
        #expect(r.variable("b") == .int(14))
        #expect(r.variable("c") == .int(20))
        #expect(r.variable("d") == .int(-1))
        #expect(r.variable("e") == .int(17))
        #expect(r.variable("f") == .int(5))
        #expect(r.variable("g") == .int(64))
        #expect(r.variable("h") == .string("sip:bob@5"))
        #expect(r.variable("i") == .int(12))
        #expect(r.variable("j") == .int(-5))
        #expect(r.variable("k") == .null)
        #expect(r.variable("l") == .string("xy"))
        #expect(r.variable("m") == .int(0))
        #expect(r.variable("n") == .int(1))
        #expect(r.variable("o") == .int(1))
    }

    @Test func comparisons() throws {
        var r = try Run("""
        route {
            if (1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3 && 1 != 2 && 5 == "5") $var(a) = 1;
            if ("abc" < "abd") $var(b) = 1;
            if ($var(none) == NULL) $var(c) = 1;
            if ($var(a) != NULL) $var(d) = 1;
            if (!($var(a) == 2)) $var(e) = 1;
            if ("" == NULL) $var(f) = 1; else $var(f) = 2;
            if ($var(none)) $var(g) = 1; else $var(g) = 2;
        }
        """)
        r.run()
        for n in ["a", "b", "c", "d", "e"] { #expect(r.variable(n) == .int(1), "\(n)") }
        #expect(r.variable("f") == .int(2))
        #expect(r.variable("g") == .int(2))
    }

    @Test func regexMatch() throws {
        var r = try Run("""
        route {
            if ($ru =~ "^sip:alice@") $var(a) = 1;
            if ($ru !~ "^sip:bob@") $var(b) = 1;
            if ($ru =~ "EXAMPLE\\.com$") $var(c) = 1;
            $var(p) = "^sip:[a-z]+@";
            if ($ru =~ $var(p)) $var(d) = 1;
            if ($var(none) =~ ".*") $var(e) = 1; else $var(e) = 2;
        }
        """)
        r.run()
        #expect(r.variable("a") == .int(1))
        #expect(r.variable("b") == .int(1))
        #expect(r.variable("c") == .int(1))
        #expect(r.variable("d") == .int(1))
        #expect(r.variable("e") == .int(2))
    }

    @Test func ifElseChain() throws {
        for (m, expected) in [("INVITE", 1), ("BYE", 2), ("OPTIONS", 3)] {
            var r = try Run("""
            route {
                if (is_method("INVITE")) { $var(x) = 1; }
                else if (is_method("BYE|CANCEL")) { $var(x) = 2; }
                else { $var(x) = 3; }
            }
            """, message: TestMessage(method: m))
            r.run()
            #expect(r.variable("x") == .int(expected))
        }
    }

    @Test func functionTruthRules() throws {
        // negative = false, positive = true, 0 = stop the script
        var r = try Run("""
        route {
            if (t_check_trans()) { $var(a) = 1; } else { $var(a) = 2; }
            $var(b) = 1;
            if (cache_store("local", "k", "v")) $var(c) = 1;
            $var(rc) = $rc;
            if (t_relay()) { $var(d) = 1; }
            $var(after) = 1;
        }
        """)
        r.proxy.relayResult = 0
        #expect(r.run().name == "exited")
        #expect(r.variable("a") == .int(2))
        #expect(r.variable("c") == .int(1))
        #expect(r.variable("rc") == .int(1))
        #expect(r.variable("d") == .null)
        #expect(r.variable("after") == .null)
    }

    @Test func bareFunctionReturningZeroExits() throws {
        var r = try Run("route { t_relay(); $var(x) = 1; }")
        r.proxy.relayResult = 0
        #expect(r.run().name == "exited")
        #expect(r.variable("x") == .null)
    }

    @Test func whileLoopAndBound() throws {
        var r = try Run("""
        max_while_loops = 50
        route {
            $var(i) = 0; $var(sum) = 0;
            while ($var(i) < 10) { $var(sum) += $var(i); $var(i) += 1; }
            $var(j) = 0;
            while (1) { $var(j) += 1; if ($var(j) == 5) break; }
            $var(k) = 0;
            while (1) { $var(k) += 1; }
        }
        """)
        #expect(r.run().name == "finished")
        #expect(r.variable("sum") == .int(45))
        #expect(r.variable("j") == .int(5))
        #expect(r.variable("k") == .int(50))
        #expect(r.log.contains { $0.contains("exceeded 50 iterations") })
    }

    @Test func switchFallthroughAndBreak() throws {
        let src = """
        route {
            $var(out) = "";
            switch ($var(in)) {
            case 1:
                $var(out) = $var(out) + "1";
            case 2:
                $var(out) = $var(out) + "2";
                break;
            case "three":
                $var(out) = $var(out) + "3";
                break;
            default:
                $var(out) = $var(out) + "d";
            }
        }
        """
        for (input, expected) in [(ScriptValue.int(1), "12"), (.int(2), "2"), (.string("three"), "3"), (.int(9), "d")] {
            var r = try Run(src)
            let slot = r.script.varNames.firstIndex(of: "in")!
            r.context.vars[slot] = input
            r.run()
            #expect(r.variable("out") == .string(expected))
        }
    }

    @Test func switchWithoutDefaultAndBreakInsideLoop() throws {
        var r = try Run("""
        route {
            $var(i) = 0; $var(n) = 0;
            while ($var(i) < 3) {
                $var(i) += 1;
                switch ($var(i)) { case 2: break; default: $var(n) += 1; }
            }
            switch (7) { case 1: $var(z) = 1; }
        }
        """)
        r.run()
        #expect(r.variable("i") == .int(3))
        #expect(r.variable("n") == .int(2))
        #expect(r.variable("z") == .null)
    }

    @Test func routeParamsAndReturnCodes() throws {
        var r = try Run("""
        route {
            route(add, 2, "x");
            $var(r1) = $rc;
            $var(p1) = $var(seen);
            if (route(neg)) { $var(t) = 1; } else { $var(t) = 2; }
            $var(r2) = $retcode;
            route(noret);
            $var(r3) = $rc;
            $var(outer) = $param(1);
        }
        route[add] {
            $var(seen) = $param(1) + $param(2) + $param(3);
            return($param(1) + 40);
        }
        route[neg] { return(-3); }
        route[noret] { $var(q) = 1; }
        """)
        #expect(r.run().name == "finished")
        #expect(r.variable("r1") == .int(42))
        #expect(r.variable("p1") == .string("2x"))
        #expect(r.variable("t") == .int(2))
        #expect(r.variable("r2") == .int(-3))
        #expect(r.variable("r3") == .int(1))
        #expect(r.variable("outer") == .null)
    }

    @Test func exitDropAndReturnZero() throws {
        var r1 = try Run("route { route(x); $var(a) = 1; } route[x] { exit; }")
        #expect(r1.run().name == "exited")
        #expect(r1.variable("a") == .null)
        var r2 = try Run("route { route(x); $var(a) = 1; } route[x] { drop; }")
        #expect(r2.run().name == "dropped")
        var r3 = try Run("route { route(x); $var(a) = 1; } route[x] { return(0); }")
        #expect(r3.run().name == "exited")
        var r4 = try Run("route { $var(a) = 1; return; $var(a) = 2; }")
        #expect(r4.run().name == "finished")
        #expect(r4.variable("a") == .int(1))
        var r5 = try Run("route { drop(); }")
        #expect(r5.run().name == "dropped")
    }

    @Test func recursionIsBounded() throws {
        var r = try Run("route { route(loop); } route[loop] { route(loop); }")
        #expect(r.run().name == "exited")
    }

    @Test func varsResetBetweenMessages() throws {
        var r = try Run("route { $var(n) += 1; $avp(a) = 1; }")
        r.run()
        r.run()
        #expect(r.variable("n") == .int(2))
        r.context.reset(message: TestMessage())
        #expect(r.variable("n") == .null)
        #expect(r.avp("a").isEmpty)
        r.run()
        #expect(r.variable("n") == .int(1))
    }

    @Test func stringInterpolationAndXlog() throws {
        var r = try Run("""
        route {
            $var(u) = "user";
            xlog("L_INFO", "method=$rm ru=$ru v=$var(u) none=$var(none) hdr=$hdr(User-Agent) cost $5\\n");
            xlog(L_DBG, "dbg");
            xlog("plain");
        }
        """)
        r.run()
        #expect(r.log == ["method=INVITE ru=sip:alice@example.com v=user none=<null> hdr=tester cost $5\n", "dbg", "plain"])
    }

    @Test func xlogRespectsLogLevel() throws {
        let script = try #require(check("log_level = 1\nroute { xlog(L_INFO, \"info\"); xlog(L_ERR, \"err\"); }").script)
        let logger = TestLogger()
        var ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy(), logger: logger)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(logger.messages == ["err"])
    }

    @Test func rcAndTimePseudoVariables() throws {
        var r = try Run("""
        route {
            $var(ts) = $Ts;
            $var(year) = $time(%Y);
            $var(r) = $rand;
            $var(b) = $rc;
        }
        """)
        r.run()
        #expect((r.variable("ts").intValue ?? 0) > 1_600_000_000)
        #expect(r.variable("year").stringValue.count == 4)
        #expect(r.variable("r").intValue != nil)
        #expect(r.variable("b") == .int(1))
    }

    @Test func asyncSuspendsWithRequest() throws {
        var r = try Run("""
        route {
            $var(q) = "select 1";
            async(avp_db_query($var(q), "$avp(res)"), resume, 5);
            $var(never) = 1;
        }
        route[resume] { $var(got) = $rc; xlog("resumed $avp(res)"); }
        """)
        guard case .suspended(let req) = r.run() else { Issue.record("not suspended"); return }
        #expect(req.name == "avp_db_query")
        #expect(req.args == [.string("select 1"), .string("$avp(res)")])
        #expect(req.timeout == 5)
        #expect(req.resumeRoute == r.script.route(named: "resume"))
        #expect(r.variable("never") == .null)
        // Host completes: sets rc and an AVP, then resumes.
        r.context.rc = 7
        r.context.avps.push(slot: try #require(r.script.avpSlot(named: "res")), .string("row"))
        #expect(r.run(req.resumeRoute).name == "finished")
        #expect(r.variable("got") == .int(7))
        #expect(r.log == ["resumed row"])
    }

    @Test func queryVariablesBecomeBoundParameters() throws {
        var r = try Run("""
        route {
            $var(u) = "x' OR '1'='1";
            $var(d) = "example.com";
            async(avp_db_query("SELECT credit FROM subscriber WHERE username='$var(u)' AND domain = $var(d) AND note LIKE '%$var(u)%'", "$avp(credit)"), resume);
        }
        route[resume] { exit; }
        """)
        guard case .suspended(let req) = r.run() else { Issue.record("not suspended"); return }
        #expect(req.args[0] == .string("SELECT credit FROM subscriber WHERE username=$1 AND domain = $2 AND note LIKE '%' || $3 || '%'"))
        #expect(req.args[1] == .string("$avp(credit)"))
        #expect(Array(req.args[3...]) == [.string("x' OR '1'='1"), .string("example.com"), .string("x' OR '1'='1")])
    }

    @Test func launchContinues() throws {
        var r = try Run("""
        route {
            launch(exec("/bin/true"), report, "p1");
            launch(rest_get("http://x", $var(body)));
            $var(after) = 1;
        }
        route[report] { xlog("report $param(1)"); }
        """)
        #expect(r.run().name == "finished")
        #expect(r.variable("after") == .int(1))
        #expect(r.context.launches.count == 2)
        #expect(r.context.launches[0].reportRoute == r.script.route(named: "report"))
        #expect(r.context.launches[0].param == .string("p1"))
        #expect(r.context.launches[1].args == [.string("http://x"), .string("$var(body)")])
        r.context.params = [r.context.launches[0].param]
        r.run(r.context.launches[0].reportRoute)
        #expect(r.log == ["report p1"])
    }

    @Test func syncExternalCallGoesToProxy() throws {
        var r = try Run("route { if (rest_get(\"http://h/$rU\", $var(b))) $var(ok) = 1; }")
        r.message.values[.requestUser] = .string("alice")
        r.run()
        #expect(r.proxy.calls == ["invoke rest_get http://h/alice,$var(b)"])
        #expect(r.variable("ok") == .int(1))
    }
}

@Suite struct ConcurrencyTests {
    @Test func oneScriptManyWorkers() async throws {
        let script = try compile("""
        route {
            $var(n) = 0;
            while ($var(n) < 50) { $var(n) += 1; $avp(x) = $var(n); }
            if ($ru =~ "^sip:alice") { $var(ok) = 1; }
            cache_store("local", "k$ci", "$var(n)");
        }
        """)
        let cache = LocalCache()
        let results = await withTaskGroup(of: Int.self) { g -> [Int] in
            for _ in 0..<4 {
                g.addTask {
                    var total = 0
                    for _ in 0..<200 {
                        var ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy(), cache: cache)
                        _ = script.run(route: script.mainRoute, context: &ctx)
                        total += ctx.avps.values(slot: script.avpSlot(named: "x")!).count
                    }
                    return total
                }
            }
            var all: [Int] = []
            for await r in g { all.append(r) }
            return all
        }
        #expect(results == [10_000, 10_000, 10_000, 10_000])
        #expect(cache.fetch(collection: "local", key: "kcall-1@host") == "50")
    }

    @Test func logLevelMapping() {
        #expect(ExecutionContext.level(for: 0) == .error)
        #expect(ExecutionContext.level(for: 9) == .debug)
        #expect(ExecutionContext.level(for: -9) == .alert)
        #expect(ExecutionContext.level(for: 3) == .info)
    }
}
