import Testing
@testable import TandemScript

/// async()/launch() statements in the interpreter and the checker (issue 13).
@Suite struct AsyncStatementTests {
    @Test("route(x) in an assignment propagates async(): the script halts and suspends")
    func routeInExpressionSuspends() throws {
        var r = try Run("""
        route {
            $var(r) = route(x);
            $var(after) = 1;
        }
        route[x] { async(usleep(10), resume); }
        route[resume] { exit; }
        """)
        guard case .suspended(let request) = r.run() else { Issue.record("not suspended: \(r.outcome)"); return }
        #expect(request.resumeRoute == r.script.route(named: "resume"))
        #expect(r.variable("after") == .null)
    }

    @Test("route(x) in an expression propagates exit and drop, also inside a condition and a switch")
    func routeInExpressionExitsAndDrops() throws {
        var exit = try Run("route { $var(r) = route(x) + 1; $var(after) = 1; } route[x] { exit; }")
        #expect(exit.run().name == "exited")
        #expect(exit.variable("after") == .null)
        var drop = try Run("route { if (route(x) == 1) { $var(then) = 1; } $var(after) = 1; } route[x] { drop; }")
        #expect(drop.run().name == "dropped")
        #expect(drop.variable("then") == .null)
        #expect(drop.variable("after") == .null)
        var inSwitch = try Run("""
        route { switch (route(x)) { case 1: $var(c) = 1; } $var(after) = 1; }
        route[x] { exit; }
        """)
        #expect(inSwitch.run().name == "exited")
        #expect(inSwitch.variable("c") == .null)
        var returned = try Run("route { $var(r) = route(x); $var(after) = 1; } route[x] { return(3); }")
        #expect(returned.run().name == "finished")
        #expect(returned.variable("r") == .int(3))
        #expect(returned.variable("after") == .int(1))
    }

    @Test("async() in a launch report route (or a route it calls) is a check error with line and column")
    func asyncInReportRouteIsAnError() {
        let result = check(prelude + """
        route { launch(usleep(10), report); }
        route[report] { route(deeper); }
        route[deeper] {
            async(usleep(10), resume);
        }
        route[resume] { exit; }
        """, file: "r.cfg")
        let errors = result.errors.map(\.description)
        #expect(errors.contains { $0.hasPrefix("r.cfg:16:5: ") && $0.contains("launch report route") }, "\(errors)")
    }

    @Test("async() without tm loaded is a check error with line and column")
    func asyncNeedsTM() {
        let result = check("""
        loadmodule "cfgutils.so"
        route {
            async(usleep(10), resume);
        }
        route[resume] { exit; }
        """, file: "t.cfg")
        let errors = result.errors.map(\.description)
        #expect(errors.contains { $0.hasPrefix("t.cfg:3:5: ") && $0.contains("'tm'") }, "\(errors)")
    }

    @Test("Output variables: $ru/$du are accepted; a read-only one ($hdr, $ci) is a check error with line and column")
    func outputVariablesMustBeWritable() {
        let ok = check(prelude + """
        route { async(exec("printf x", "", $du, $ru), resume); }
        route[resume] { exit; }
        """, file: "o.cfg")
        #expect(!ok.hasErrors, "\(ok.errors)")
        let bad = check(prelude + """
        route {
            exec("printf x", "", $hdr(X-Out));
            avp_db_query("SELECT 1", "$avp(a);$ci");
        }
        """, file: "o.cfg")
        let errors = bad.errors.map(\.description)
        #expect(errors.contains { $0.hasPrefix("o.cfg:14:26: ") && $0.contains("writable") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("o.cfg:15:30: ") && $0.contains("not writable") }, "\(errors)")
    }
}
