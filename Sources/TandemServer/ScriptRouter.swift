import Reactor
import Logging
import TandemProxy
import TandemScript

/// Runs the compiled routing script for the proxy core: the main `route` for new requests and
/// `failure_route[...]` when every branch failed.
///
/// `@unchecked Sendable`: `slots[i]` is only touched by worker `i` (the worker index of the
/// `RequestContext`), so no two threads share a slot.
final class ScriptRouter: RequestRouter, @unchecked Sendable {
    let script: Script
    let cache = LocalCache()
    let logger: Logger
    let scriptLogger: SwiftLogScriptLogger
    private var slots: [ExecutionContext?]

    init(script: Script, workers: Int, logger: Logger) {
        self.script = script
        self.logger = logger
        self.scriptLogger = SwiftLogScriptLogger(logger: Logger(label: "tandem.script"))
        self.slots = Array(repeating: nil, count: max(1, workers))
    }

    func routeRequest(_ context: RequestContext) {
        run(script.mainRoute, context)
    }

    func routeFailure(_ route: Int, _ context: RequestContext) {
        guard route >= 0, route < script.routeNames.count,
              let id = script.route(named: script.routeNames[route].name, kind: script.routeNames[route].kind) else {
            return
        }
        run(id, context)
    }

    /// Runs `route` for `context` with the worker's execution context; AVPs come from and go back to
    /// the transaction.
    private func run(_ route: RouteID, _ context: RequestContext) {
        let index = context.worker.index < slots.count ? context.worker.index : 0
        let local = context.socketIndex < context.core.settings.listen.count
            ? context.core.settings.listen[context.socketIndex] : nil
        let message = RequestMessageAdapter(context: context, local: local)
        let proxy = RequestProxyAdapter(context: context)
        var execution: ExecutionContext
        if let existing = slots[index] {
            execution = existing
            slots[index] = nil
            execution.reset(message: message)
            execution.proxy = proxy
        } else {
            execution = ExecutionContext(script: script, message: message, proxy: proxy, logger: scriptLogger,
                                         cache: cache)
        }
        if let saved = context.transaction?.scriptState as? AVPStore { execution.avps = saved }
        var outcome = script.run(route: route, context: &execution)
        // No async driver exists yet: an async() resumes at once with $rc = -1 (error), so that
        // the script's error handling runs instead of the transaction hanging.
        var chained = 0
        while case .suspended(let request) = outcome, chained < 16 {
            chained += 1
            logger.warning("async function has no driver yet", metadata: ["function": "\(request.name)"])
            execution.rc = -1
            outcome = script.run(route: request.resumeRoute, context: &execution)
        }
        if let transaction = context.transaction { transaction.scriptState = execution.avps }
        execution.proxy = NullProxy.shared
        slots[index] = execution
    }
}

/// Placeholder proxy kept in an idle execution context so it does not retain the last request.
final class NullProxy: ScriptProxy, @unchecked Sendable {
    static let shared = NullProxy()
    func slSendReply(code: Int, reason: String) -> Int { -1 }
    func tRelay(flags: Int, destination: String?) -> Int { -1 }
    func tNewTran() -> Int { -1 }
    func tReply(code: Int, reason: String) -> Int { -1 }
    func tCheckTrans() -> Int { -1 }
    func tOnFailure(_ route: RouteID) {}
    func tOnReply(_ route: RouteID) {}
    func tOnBranch(_ route: RouteID) {}
    func recordRoute() -> Int { -1 }
    func looseRoute() -> Int { -1 }
    func isMyself(host: String, port: Int) -> Bool { false }
    func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int { -1 }
}
