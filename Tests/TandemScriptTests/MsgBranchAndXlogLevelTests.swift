import Synchronization
import Testing
@testable import TandemScript

/// `$msg.branch...` as the OpenSIPS 3.6 core variables page describes it (index 0 the Request-URI
/// branch, no index the last branch, `[*]` all), and `xlog_level` / `$xlog_level` / `$log_level`.
@Suite struct MsgBranchAndXlogLevelTests {
    @Test func messageBranchVariables() throws {
        var r = try Run("""
        route {
            $var(b0) = $msg.branch;
            $var(l0) = $msg.branch.last_idx;
            $msg.branch = "sip:new@domain.org";
            $var(l1) = $msg.branch.last_idx;
            $var(b1) = $msg.branch;
            $msg.branch.uri = "sip:new_new@domain.org";
            $(msg.branch.uri[0]) = "sip:new_RURI@domain.org";
            $msg.branch.flag(pstn) = 1;
            $msg.branch.flag(foo) = 1;
            $var(flags) = $msg.branch.flags;
            $msg.branch.attr(name) = "one";
            $msg.branch.attr(num) = 5;
            $var(name) = $msg.branch.attr(name);
            $var(num) = $(msg.branch.attr(num)[-1]);
            $var(none) = $(msg.branch.attr(name)[0]);
            $msg.branch.q = "0.5";
            $var(q) = $msg.branch.q;
            $msg.branch.duri = "sip:10.0.0.9";
            $msg.branch.socket = "udp:127.0.0.1:5060";
            $var(all) = $(msg.branch.uri[*]);
            $var(pstn0) = $(msg.branch.flag(pstn)[0]);
            $var(missing) = $(msg.branch.uri[5]);
            $(msg.branch.flags[0]) = "foo";
            $var(flags0) = $(msg.branch.flags[0]);
        }
        """)
        r.run()
        let expected: [String: ScriptValue] = [
            "b0": .string("sip:bob@example.org"), "l0": .int(0), "l1": .int(1), "b1": .string("sip:new@domain.org"),
            "flags": .string("pstn,foo"), "name": .string("one"), "num": .int(5), "none": .null, "q": .string("0.5"),
            "all": .string("sip:new_RURI@domain.org,sip:new_new@domain.org"), "pstn0": .int(0), "missing": .null,
            "flags0": .string("foo"),
        ]
        for (name, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(r.variable(name) == value, "\(name)")
        }
        let added = try #require(r.proxy.messageBranches.last)
        #expect(r.proxy.messageBranches.count == 2)
        #expect(added.uri == "sip:new_new@domain.org")
        #expect(added.destinationURI == "sip:10.0.0.9")
        #expect(added.socket == "udp:127.0.0.1:5060")
        #expect(added.q == 500)
        #expect(r.proxy.messageBranches[0].uri == "sip:new_RURI@domain.org")
    }

    @Test func checkerAcceptsTheFamilyAndRejectsStarOnFlagAndAttr() {
        #expect(check(prelude + """
        route {
            $msg.branch = "sip:a@b"; $msg.branch.attr(x) = 1; $msg.branch.flag(F) = 0;
            xlog("$msg.branch.last_idx $(msg.branch.duri[-1]) $msg.branch.socket $msg.branch.path\\n");
        }
        """).diagnostics.map(\.description) == [])
        #expect(check(prelude + "route { $var(x) = $(msg.branch.attr(x)[*]); }").diagnostics.map(\.message)
                == ["'$(msg.branch.attr(x)[*])' cannot take the [*] index"])
    }

    /// 3.6 core parameters: `xlog_level` sets xlog()'s own verbosity; `$xlog_level` reads it and changes it
    /// for this worker (`L_DBG` or a number), NULL goes back to the configured level. `log()` follows
    /// `log_level` (and `$log_level`).
    @Test func xlogLevel() throws {
        var r = try Run("""
        xlog_level = 1
        route {
            $var(start) = $xlog_level;
            xlog("L_INFO", "info dropped\\n");
            xlog("L_WARN", "warn kept\\n");
            $xlog_level = L_DBG;
            $var(raised) = $xlog_level;
            xlog("L_DBG", "debug kept\\n");
            $xlog_level = NULL;
            $var(reset) = $xlog_level;
            xlog("L_NOTICE", "notice dropped\\n");
            log("L_INFO", "log follows log_level\\n");
            $log_level = 1;
            log("L_INFO", "log info dropped\\n");
            $var(ll) = $log_level;
        }
        """)
        r.run()
        #expect(r.variable("start") == .int(1))
        #expect(r.variable("raised") == .int(4))
        #expect(r.variable("reset") == .int(1))
        #expect(r.variable("ll") == .int(1))
        #expect(r.log.map { String($0.filter { $0 != "\n" }) } == ["warn kept", "debug kept", "log follows log_level"])
    }

    @Test func xlogPrintLevel() throws {
        let script = try compile("xlog_print_level = 3\nroute { xlog(\"no level given\"); }")
        final class Levels: ScriptLogger {
            let levels = Mutex<[ScriptLogLevel]>([])
            func log(_ level: ScriptLogLevel, _ message: String, context: ScriptLogContext) {
                levels.withLock { $0.append(level) }
            }
        }
        let logger = Levels()
        var ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy(), logger: logger)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(logger.levels.withLock { $0 } == [.info])
    }
}
