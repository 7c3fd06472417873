import Synchronization
import Testing
import TandemScript

/// xlog lines carry the route running and the message's identity (`ScriptLogContext`).
@Suite struct LogContextTests {
    final class LevelCappedLogger: ScriptLogger {
        let inner = TestLogger()
        let cap: ScriptLogLevel?
        init(cap: ScriptLogLevel?) { self.cap = cap }
        func log(_ level: ScriptLogLevel, _ message: String, context: ScriptLogContext) {
            inner.log(level, message, context: context)
        }
        var maximumLevel: ScriptLogLevel? { cap }
    }

    @Test func routeLabelsFollowNestedRouteCalls() throws {
        let script = try #require(check("""
            log_level = 4
            route { xlog("L_INFO", "main $ci"); route(inner); xlog("back"); }
            route[inner] { xlog(L_WARN, "inner"); }
            failure_route[missed] { xlog("L_ERR", "failed"); }
            onreply_route { xlog("reply"); }
            onreply_route[watch] { xlog("watched"); }
            startup_route { xlog("boot"); }
            timer_route[tick, 5] { xlog("tick"); }
            branch_route[fork] { xlog("fork"); }
            """).script)
        #expect(script.routeLabels.contains("request"))
        #expect(script.routeLabels.contains("failure_route[missed]"))
        #expect(script.routeLabels.contains("onreply_route"))
        #expect(script.routeLabels.contains("onreply_route[watch]"))
        #expect(script.routeLabels.contains("startup_route"))
        #expect(script.routeLabels.contains("timer_route[tick]"))
        #expect(script.routeLabels.contains("branch_route[fork]"))
        let logger = TestLogger()
        var ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy(), logger: logger)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(logger.messages == ["main call-1@host", "inner", "back"])
        #expect(logger.contexts.map(\.route) == ["request", "route[inner]", "request"])
        #expect(logger.contexts.allSatisfy { $0.callID == "call-1@host" && $0.method == "INVITE" })
        let failure = try #require(script.route(named: "missed", kind: .failure))
        _ = script.run(route: failure, context: &ctx)
        #expect(logger.contexts.last?.route == "failure_route[missed]")
        let startup = try #require(script.startupRoute)
        var empty = ExecutionContext(script: script, message: EmptyScriptMessage(), proxy: TestProxy(), logger: logger)
        _ = script.run(route: startup, context: &empty)
        #expect(logger.contexts.last == ScriptLogContext(route: "startup_route"))
    }

    @Test func everyLevelNameAndTheDefault() throws {
        let script = try #require(check("""
            log_level = 4
            route {
                xlog("default");
                xlog("L_ALERT", "a"); xlog("L_CRIT", "c"); xlog("L_ERR", "e"); xlog("L_WARN", "w");
                xlog("L_NOTICE", "n"); xlog("L_INFO", "i"); xlog("L_DBG", "d");
                xlog(L_WARN, "bare");
            }
            """).script)
        final class Levels: ScriptLogger {
            let levels = Mutex<[ScriptLogLevel]>([])
            func log(_ level: ScriptLogLevel, _ message: String, context: ScriptLogContext) {
                levels.withLock { $0.append(level) }
            }
        }
        let logger = Levels()
        var ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy(), logger: logger)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(logger.levels.withLock { $0 } == [.error, .alert, .critical, .error, .warning, .notice, .info, .debug,
                                                  .warning])
    }

    @Test func loggerLevelOverridesLogLevel() throws {
        let script = try #require(check("log_level = 1\nroute { xlog(L_INFO, \"info\"); xlog(L_DBG, \"dbg\"); }").script)
        let raised = LevelCappedLogger(cap: .info)
        var ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy(), logger: raised)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(raised.inner.messages == ["info"])
        let plain = LevelCappedLogger(cap: nil)
        ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy(), logger: plain)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(plain.inner.messages.isEmpty)
    }
}
