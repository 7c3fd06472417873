import Testing
@testable import TandemScript

/// Transparent mid-route suspension (issue 16): a plain `proxy_authorize`/`www_authorize` stops the
/// route and, resumed with the call's return code, the route continues at the call, with nothing before
/// it evaluated again. The host's part is played by ``SuspendingRun``: it resets the context as a new
/// worker run would (AVPs come back from the "transaction"), sets `$rc`, and calls `Script.resume`.
@Suite struct TransparentSuspensionTests {
    static let modules = """
        loadmodule "auth.so"
        loadmodule "auth_db.so"

        """

    @Test("if (!proxy_authorize()): suspends at the call; resumed, the condition takes the delivered $rc")
    func ifCondition() throws {
        let source = """
        route {
            xlog("L_INFO", "before");
            $var(a) = 7;
            if (!proxy_authorize("", "subscriber")) {
                xlog("L_INFO", "denied rc=$rc a=$var(a)");
                exit;
            }
            xlog("L_INFO", "allowed rc=$rc a=$var(a)");
        }
        """
        var denied = try SuspendingRun(source)
        let request = try denied.suspend()
        #expect(request.name == "proxy_authorize" && request.continuesRoute)
        #expect(request.resumeRoute == denied.run.script.mainRoute)
        #expect(denied.run.log == ["before"])
        #expect(denied.invocations == 0, "the call did not run synchronously")
        #expect(denied.resume(request, rc: -2).name == "exited")
        #expect(denied.run.log == ["before", "denied rc=-2 a=7"])

        var allowed = try SuspendingRun(source)
        #expect(allowed.resume(try allowed.suspend(), rc: 1).name == "finished")
        #expect(allowed.run.log == ["before", "allowed rc=1 a=7"])
        #expect(allowed.invocations == 0)
    }

    @Test("Nested if inside while: continues in the same iteration, then the loop goes on")
    func nestedIfInWhile() throws {
        var r = try SuspendingRun("""
        route {
            $var(i) = 0;
            while ($var(i) < 3) {
                $var(i) = $var(i) + 1;
                if ($var(i) == 2) {
                    if (proxy_authorize("", "subscriber")) { xlog("L_INFO", "ok i=$var(i)"); }
                    else { xlog("L_INFO", "no i=$var(i)"); }
                }
                xlog("L_INFO", "iter $var(i)");
            }
            xlog("L_INFO", "done rc=$rc");
        }
        """)
        let request = try r.suspend()
        #expect(r.run.log == ["iter 1"])
        #expect(r.resume(request, rc: 1).name == "finished")
        #expect(r.run.log == ["iter 1", "ok i=2", "iter 2", "iter 3", "done rc=1"])
    }

    @Test("Sub-routes: route(x) as a statement and in a condition, $param kept, two suspensions in a row")
    func subRoute() throws {
        var r = try SuspendingRun("""
        route {
            xlog("L_INFO", "main");
            route(auth, "p1");
            xlog("L_INFO", "back rc=$rc");
            if (route(auth, "p2")) { xlog("L_INFO", "cond true"); } else { xlog("L_INFO", "cond false rc=$rc"); }
        }
        route[auth] {
            xlog("L_INFO", "auth $param(1)");
            if (!www_authorize("", "subscriber")) { return(-1); }
            xlog("L_INFO", "authorized $param(1)");
            return(1);
        }
        """)
        let first = try r.suspend()
        #expect(first.resumeRoute == r.run.script.mainRoute, "continues the route the host ran, not route[auth]")
        #expect(r.run.log == ["main", "auth p1"])
        guard case .suspended(let second) = r.resume(first, rc: 1) else {
            Issue.record("not suspended again: \(r.run.outcome)")
            return
        }
        #expect(second.continuesRoute)
        #expect(r.run.log == ["main", "auth p1", "authorized p1", "back rc=1", "auth p2"])
        #expect(r.resume(second, rc: -4).name == "finished")
        #expect(r.run.log.suffix(1) == ["cond false rc=-1"])
        #expect(r.invocations == 0)
    }

    @Test("Assignment from the function, inside arithmetic (left operand kept) and +=")
    func assignment() throws {
        var r = try SuspendingRun("""
        route {
            $var(n) = 100;
            $var(r) = proxy_authorize("", "subscriber");
            xlog("L_INFO", "r=$var(r)");
            $var(x) = $var(n) - proxy_authorize("", "subscriber");
            $var(n) = 0;
            xlog("L_INFO", "x=$var(x)");
            $var(n) += proxy_authorize("", "subscriber") * 2;
            xlog("L_INFO", "n=$var(n)");
        }
        """)
        var request = try r.suspend()
        guard case .suspended(let next) = r.resume(request, rc: -2) else { Issue.record("\(r.run.outcome)"); return }
        #expect(r.run.log == ["r=-2"])
        // The left operand ($var(n) = 100) was evaluated before the suspension and is not read again.
        request = next
        guard case .suspended(let last) = r.resume(request, rc: 3) else { Issue.record("\(r.run.outcome)"); return }
        #expect(r.run.log == ["r=-2", "x=97"])
        #expect(r.resume(last, rc: 5).name == "finished")
        #expect(r.run.log == ["r=-2", "x=97", "n=10"])
    }

    @Test("switch on the function's value, and a call inside a case body")
    func switchStatement() throws {
        var r = try SuspendingRun("""
        route {
            switch (proxy_authorize("", "subscriber")) {
                case 2: xlog("L_INFO", "wrong password");
                case 3:
                    xlog("L_INFO", "no credentials");
                    $var(again) = www_authorize("", "subscriber");
                    xlog("L_INFO", "again=$var(again)");
                    break;
                default: xlog("L_INFO", "default");
            }
            xlog("L_INFO", "after");
        }
        """)
        let first = try r.suspend()
        guard case .suspended(let second) = r.resume(first, rc: 2) else { Issue.record("\(r.run.outcome)"); return }
        #expect(r.run.log == ["wrong password", "no credentials"], "falls through from case 2")
        #expect(r.resume(second, rc: 1).name == "finished")
        #expect(r.run.log == ["wrong password", "no credentials", "again=1", "after"])
    }

    @Test("for each: the loop continues with the next value; AVPs come back from the transaction")
    func forEachLoop() throws {
        var r = try SuspendingRun("""
        route {
            $avp(u) = "a";
            $avp(u) = "b";
            for ($var(u) in $(avp(u)[*])) {
                if ($var(u) == "a") { $var(ok) = proxy_authorize("", "subscriber"); }
                xlog("L_INFO", "u=$var(u) ok=$var(ok)");
            }
        }
        """)
        let request = try r.suspend()
        #expect(r.run.log == ["u=b ok=<null>"])
        #expect(r.resume(request, rc: 1).name == "finished")
        #expect(r.run.log == ["u=b ok=<null>", "u=a ok=1"])
    }

    @Test("&&: the left side is not evaluated again (t_newtran once); $rc 0 stops the script")
    func andConditionAndExit() throws {
        var r = try SuspendingRun("""
        route {
            if (t_newtran() && proxy_authorize("", "subscriber")) { xlog("L_INFO", "yes"); }
            xlog("L_INFO", "end");
        }
        """)
        let request = try r.suspend()
        #expect(r.run.proxy.calls == ["t_newtran"])
        #expect(r.resume(request, rc: 0).name == "exited")
        #expect(r.run.proxy.calls == ["t_newtran"])
        #expect(r.run.log.isEmpty)
    }

    @Test("Where the host does not allow suspension, the call runs synchronously as before")
    func synchronousWhenNotAllowed() throws {
        var r = try Run(Self.modules + """
        route {
            if (proxy_authorize("", "subscriber")) { xlog("L_INFO", "yes $rc"); }
            $var(x) = route(check) + 1;
            xlog("L_INFO", "x=$var(x)");
        }
        route[check] { www_authorize("", "subscriber"); return($rc); }
        """)
        r.proxy.invokeResult = 1
        #expect(r.run().name == "finished")
        #expect(r.log == ["yes 1", "x=2"])
        #expect(r.proxy.calls.count == 2)
    }

    @Test("route(x) where the trail cannot follow (a regex match): the call in it runs synchronously")
    func barrierInUncoveredExpression() throws {
        var r = try SuspendingRun("""
        route {
            if (route(check) =~ "^1") { xlog("L_INFO", "matched $rc"); }
            $var(v) = 2 + route(check);
            xlog("L_INFO", "v=$var(v)");
        }
        route[check] { www_authorize("", "subscriber"); return($rc); }
        """)
        // The match ran route[check] synchronously; the arithmetic is covered by the trail: it suspends.
        let request = try r.suspend()
        #expect(r.invocations == 1)
        #expect(r.run.log == ["matched 1"])
        #expect(r.resume(request, rc: 4).name == "finished")
        #expect(r.run.log == ["matched 1", "v=6"])
    }

    @Test("async() after a continued route still runs its resume route; the trail stays out of it")
    func asyncAfterContinuation() throws {
        var r = try SuspendingRun("""
        route {
            proxy_authorize("", "subscriber");
            xlog("L_INFO", "rc=$rc");
            async(usleep(10), resume);
        }
        route[resume] { xlog("L_INFO", "resumed"); }
        """)
        let request = try r.suspend()
        guard case .suspended(let async) = r.resume(request, rc: 1) else { Issue.record("\(r.run.outcome)"); return }
        #expect(!async.continuesRoute)
        #expect(async.resumeRoute == r.run.script.route(named: "resume"))
        #expect(r.run.log == ["rc=1"])
    }

    @Test("tandem check warns where a plain call cannot suspend (a route reached from branch_route), not elsewhere")
    func checkWarns() {
        let result = check(prelude + Self.modules + """
            route {
                t_on_branch("b");
                if (proxy_authorize("", "subscriber")) { t_relay(); }
            }
            branch_route[b] { route(auth); }
            route[auth] {
                www_authorize("", "subscriber");
            }
            """, file: "w.cfg")
        #expect(!result.hasErrors, "\(result.errors)")
        let warnings = result.diagnostics.filter { $0.severity == .warning }.map(\.description)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("'www_authorize' in branch_route") == true && warnings.first?.contains("branch_route") == true,
                "\(warnings)")
    }

    @Test("A spec can opt in by the script's settings (transparentIf): suspends then, else its binder runs")
    func optInBySettings() throws {
        let fake = FunctionSpec("fake_lookup", args: [.string], transparentIf: { $0.logLevel == 4 },
                                binder: { _, _, _ in { _ in 7 } })
        let checker = ScriptChecker(registry: FunctionRegistry(FunctionRegistry.standard.specs + [fake]))
        let body = "route { $var(r) = fake_lookup(\"location\"); xlog(\"L_ERR\", \"r=$var(r)\"); }"
        let suspending = try #require(checker.check(source: "log_level = 4\n" + body, fileName: "t.cfg").script)
        let logger = TestLogger()
        var context = ExecutionContext(script: suspending, message: TestMessage(), proxy: TestProxy(), logger: logger)
        context.allowsSuspension = true
        guard case .suspended(let request) = suspending.run(route: suspending.mainRoute, context: &context) else {
            Issue.record("not suspended")
            return
        }
        #expect(request.name == "fake_lookup" && request.continuesRoute)
        context.rc = -1
        #expect(suspending.resume(request, context: &context).name == "finished")
        #expect(logger.messages == ["r=-1"])

        let plain = try #require(checker.check(source: "log_level = 3\n" + body, fileName: "t.cfg").script)
        let plainLogger = TestLogger()
        var plainContext = ExecutionContext(script: plain, message: TestMessage(), proxy: TestProxy(), logger: plainLogger)
        plainContext.allowsSuspension = true
        #expect(plain.run(route: plain.mainRoute, context: &plainContext).name == "finished")
        #expect(plainLogger.messages == ["r=7"])
    }

    @Test("A script without transparent calls compiles no resumable frames")
    func noTrailWithoutCalls() throws {
        let result = check(prelude + "route { if (is_method(\"INVITE\")) { route(x); } } route[x] { exit; }")
        let ast = result.ast
        var compiler = Compiler(ast: ast, config: result.config, registry: .standard)
        _ = compiler.compile()
        #expect(compiler.suspendingRoutes.isEmpty)
        let withCall = check(prelude + TransparentSuspensionTests.modules + """
            route { if (is_method("INVITE")) { route(x); } } route[x] { route(y); } route[y] { www_authorize("", "s"); }
            route[z] { exit; }
            """)
        var second = Compiler(ast: withCall.ast, config: withCall.config, registry: .standard)
        _ = second.compile()
        #expect(second.suspendingRoutes == ["", "x", "y"])
    }
}

/// A script run whose transparently suspending calls suspend (as the router allows in request routes),
/// and a resume that plays the host: a fresh run of the worker's context with the transaction's AVPs
/// and the call's `$rc`.
struct SuspendingRun {
    var run: Run

    init(_ source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        run = try Run(TransparentSuspensionTests.modules + source, sourceLocation: sourceLocation)
        run.context.allowsSuspension = true
    }

    /// Synchronous calls of host-run functions made so far (none when every call suspended).
    var invocations: Int { run.proxy.calls.filter { $0.hasPrefix("invoke") }.count }

    /// Runs the main route and expects a transparent suspension.
    mutating func suspend(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> AsyncRequest {
        guard case .suspended(let request) = run.run() else {
            Issue.record("not suspended: \(run.outcome.name)", sourceLocation: sourceLocation)
            throw Stop()
        }
        #expect(request.continuesRoute, sourceLocation: sourceLocation)
        return request
    }

    /// Continues the route at the suspended call with `rc`.
    @discardableResult
    mutating func resume(_ request: AsyncRequest, rc: Int) -> ScriptOutcome {
        let avps = run.context.avps
        run.context.reset(message: run.message)
        run.context.avps = avps
        run.context.allowsSuspension = true
        run.context.rc = rc
        run.outcome = run.script.resume(request, context: &run.context)
        return run.outcome
    }

    struct Stop: Error {}
}
