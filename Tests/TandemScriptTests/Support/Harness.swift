import Testing
import TandemScript

/// Module preamble so most functions are available.
let prelude = """
log_level = 4
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
loadmodule "cachedb_local.so"
loadmodule "statistics.so"
loadmodule "avpops.so"
loadmodule "rest_client.so"
loadmodule "exec.so"
loadmodule "cfgutils.so"

"""

func check(_ source: String, file: String = "test.cfg") -> CheckResult {
    ScriptChecker().check(source: source, fileName: file)
}

/// Compiles `prelude + source`; fails the test with the diagnostics when it does not check clean.
func compile(_ source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Script {
    let r = check(prelude + source)
    if r.hasErrors {
        let text = r.diagnostics.map(\.description).joined(separator: "\n")
        Issue.record("unexpected diagnostics:\n\(text)",
                     sourceLocation: sourceLocation)
    }
    return try #require(r.script, sourceLocation: sourceLocation)
}

/// Test fixture running a script against a TestMessage / TestProxy.
struct Run {
    let script: Script
    let message: TestMessage
    let proxy: TestProxy
    let logger: TestLogger
    var context: ExecutionContext
    var outcome: ScriptOutcome = .finished

    init(_ source: String, message: TestMessage = TestMessage(), cache: LocalCache = LocalCache(),
         stats: (@Sendable (String, Int) -> Void)? = nil,
         sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        script = try compile(source, sourceLocation: sourceLocation)
        self.message = message
        proxy = TestProxy()
        logger = TestLogger()
        context = ExecutionContext(script: script, message: message, proxy: proxy, logger: logger, cache: cache, stats: stats)
    }

    @discardableResult
    mutating func run(_ route: RouteID? = nil) -> ScriptOutcome {
        outcome = script.run(route: route ?? script.mainRoute, context: &context)
        return outcome
    }

    var log: [String] { logger.messages }

    func variable(_ name: String) -> ScriptValue {
        guard let i = script.varNames.firstIndex(of: name) else { return .null }
        return context.vars[i]
    }

    func avp(_ name: String) -> [ScriptValue] {
        guard let s = script.avpSlot(named: name) else { return [] }
        return context.avps.values(slot: s)
    }
}

extension ScriptOutcome {
    var name: String {
        switch self {
        case .finished: return "finished"
        case .exited: return "exited"
        case .dropped: return "dropped"
        case .suspended: return "suspended"
        }
    }
}
