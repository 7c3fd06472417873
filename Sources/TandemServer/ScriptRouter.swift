import Logging
import Reactor
import SIPCore
import TandemAsync
import TandemProxy
import TandemScript

/// Runs the compiled routing script for the proxy core: the main `route` for new requests,
/// `failure_route[...]` when every branch failed, resume routes after `async()` and report routes
/// after `launch()`.
///
/// `@unchecked Sendable`: `slots` is never mutated after `init`; the slot object `slots[i]` is only
/// touched by worker `i` (the worker index of the `RequestContext`), so no two threads share one.
/// (An array of values mutated in place by several workers would not do: each element write checks
/// and may copy the shared buffer.)
final class ScriptRouter: RequestRouter, @unchecked Sendable {
    let script: Script
    let cache = LocalCache()
    let statistics = ScriptStatistics()
    let logger: Logger
    let scriptLogger: SwiftLogScriptLogger
    private let slots: [IdleExecution]
    /// Rounds of report routes that launch again, run at start-up before giving up.
    static let maxLaunchRounds = 100

    init(script: Script, workers: Int, logger: Logger) {
        self.script = script
        self.logger = logger
        self.scriptLogger = SwiftLogScriptLogger(logger: logger)
        self.slots = (0..<max(1, workers)).map { _ in IdleExecution() }
    }

    /// `update_stat` lands in `statistics`.
    private var statisticsSink: @Sendable (String, Int) -> Void {
        let statistics = self.statistics
        return { name, delta in statistics.update(name, by: delta) }
    }

    func routeRequest(_ context: RequestContext) {
        run(script.mainRoute, context)
    }

    func routeFailure(_ route: Int, _ context: RequestContext) {
        guard let id = routeID(route) else { return }
        run(id, context)
    }

    var runsReplyRoutes: Bool { script.mainReplyRoute != nil || script.routeNames.contains { $0.kind == .onReply } }

    func routeReply(_ route: Int?, _ context: ReplyContext) -> ReplyVerdict {
        var execution = replyExecution(context, avps: context.transactionScriptState as? AVPStore)
        var routes: [RouteID] = []
        if let main = script.mainReplyRoute { routes.append(main) }
        if let route, let id = routeID(route) { routes.append(id) }
        return runReplyRoutes(routes[...], context: context, execution: &execution)
    }

    /// A context for reply routes of `context`'s reply, with the transaction's AVPs.
    private func replyExecution(_ context: ReplyContext, avps: AVPStore?) -> ExecutionContext {
        let message = ReplyMessageAdapter(context: context, local: nil)
        var execution = ExecutionContext(script: script, message: message,
                                         proxy: HostProxy(services: context.worker.attachment as? WorkerServices,
                                                          script: script),
                                         logger: scriptLogger, cache: cache, stats: statisticsSink)
        if let avps { execution.avps = avps }
        return execution
    }

    /// Runs reply routes in turn; an `async()` in one of them suspends the reply, and its resume route
    /// (then the remaining reply routes) runs when the operation completes. The AVPs belong to the
    /// transaction: every reply route sees them, and what they set is kept with it.
    private func runReplyRoutes(_ routes: ArraySlice<RouteID>, context: ReplyContext,
                                execution: inout ExecutionContext) -> ReplyVerdict {
        var remaining = routes
        while let route = remaining.popFirst() {
            let outcome = script.run(route: route, context: &execution)
            startLaunches(&execution, worker: context.worker)
            switch outcome {
            case .dropped:
                context.transactionScriptState = execution.avps
                return .drop
            case .suspended(let request):
                suspendReply(request, avps: execution.avps, context: context, then: remaining)
                return .suspended
            case .finished, .exited:
                let avps = execution.avps
                execution.reset(message: execution.message)
                execution.avps = avps
            }
        }
        context.transactionScriptState = execution.avps
        return .relay
    }

    /// `async()` in an `onreply_route`: the reply waits; the resume route runs with `$rc` and the
    /// AVPs the reply route had on this worker.
    private func suspendReply(_ request: AsyncRequest, avps: AVPStore, context: ReplyContext,
                              then remaining: ArraySlice<RouteID>) {
        guard let services = context.worker.attachment as? WorkerServices else {
            context.core.resumeReply(context, drop: false)
            return
        }
        let operation = AsyncFunctions.operation(name: request.name, args: request.args, services: services)
        let timeoutMs = request.timeoutMilliseconds.map { UInt64(max(0, $0)) }
        services.asyncWorker.start(operation, timeoutMs: timeoutMs) { [self] result in
            var execution = replyExecution(context, avps: avps)
            AsyncFunctions.complete(request.name, args: request.args, result: result, script: script,
                                    services: services, into: &execution)
            switch runReplyRoutes([request.resumeRoute][...] + remaining, context: context, execution: &execution) {
            case .relay: context.core.resumeReply(context, drop: false)
            case .drop: context.core.resumeReply(context, drop: true)
            case .suspended: break
            }
        }
    }

    func routeBranch(_ route: Int, _ context: RequestContext) -> Bool {
        guard let id = routeID(route) else { return true }
        let message = RequestMessageAdapter(context: context, local: nil)
        let proxy = RequestProxyAdapter(context: context, script: script)
        var execution = ExecutionContext(script: script, message: message, proxy: proxy, logger: scriptLogger,
                                         cache: cache, stats: statisticsSink)
        if let saved = context.transaction?.scriptState as? AVPStore { execution.avps = saved }
        let outcome = script.run(route: id, context: &execution)
        startLaunches(&execution, worker: context.worker)
        if case .dropped = outcome { return false }
        return true
    }

    var runsErrorRoute: Bool { script.errorRoute != nil }

    /// `error_route` for a request that failed to parse: it may answer (sl_send_reply) and launch jobs.
    func routeError(_ context: RequestContext) {
        guard let route = script.errorRoute else { return }
        run(route, context)
    }

    var runsLocalRoute: Bool { script.localRoute != nil }

    /// `local_route` on a request the proxy generated (the CANCEL of a branch): header changes go into
    /// the request; `drop` discards it; `launch()` jobs start.
    func routeLocal(_ context: RequestContext) -> Bool {
        guard let route = script.localRoute else { return true }
        let message = RequestMessageAdapter(context: context, local: nil)
        var execution = ExecutionContext(script: script, message: message,
                                         proxy: HostProxy(services: context.worker.attachment as? WorkerServices,
                                                          script: script),
                                         logger: scriptLogger, cache: cache, stats: statisticsSink)
        let outcome = script.run(route: route, context: &execution)
        startLaunches(&execution, worker: context.worker)
        if case .dropped = outcome { return false }
        return true
    }

    /// Runs `startup_route` once, before the workers start (no SIP message). `services` belong to the
    /// starting thread: functions such as avp_db_query run synchronously, and `launch()` jobs run to
    /// their end (with their report routes) before the workers start.
    func runStartupRoute(services: WorkerServices?) {
        guard let route = script.startupRoute else { return }
        var execution = ExecutionContext(script: script, message: EmptyScriptMessage(),
                                         proxy: HostProxy(services: services, script: script),
                                         logger: scriptLogger, cache: cache,
                                         stats: statisticsSink)
        _ = script.run(route: route, context: &execution)
        runLaunchesSynchronously(&execution, services: services)
    }

    /// `launch()` where no reactor runs yet (startup_route): each job runs on this thread, then its
    /// report route.
    private func runLaunchesSynchronously(_ execution: inout ExecutionContext, services: WorkerServices?) {
        var depth = 0
        while !execution.launches.isEmpty, depth < ScriptRouter.maxLaunchRounds {
            depth += 1
            let launches = execution.launches
            execution.launches.removeAll()
            for launch in launches {
                let result: AsyncResult
                if let services {
                    let operation = AsyncFunctions.operation(name: launch.name, args: launch.args, services: services)
                    result = services.asyncWorker.runSynchronously(operation)
                } else {
                    result = .failure
                }
                guard let route = launch.reportRoute else { continue }
                var report = reportExecution(launch, result: result, services: services)
                _ = script.run(route: route, context: &report)
                execution.launches += report.launches
            }
        }
    }

    /// The context of a launch report route: `$rc`, the outputs and `$param(1)`, no SIP message.
    private func reportExecution(_ launch: LaunchRequest, result: AsyncResult,
                                 services: WorkerServices?) -> ExecutionContext {
        var report = ExecutionContext(script: script, message: EmptyScriptMessage(),
                                      proxy: HostProxy(services: services, script: script),
                                      logger: scriptLogger, cache: cache, stats: statisticsSink)
        report.params = [launch.param]
        AsyncFunctions.complete(launch.name, args: launch.args, result: result, script: script,
                                services: services, into: &report)
        return report
    }

    /// Schedules every `timer_route[name, seconds]` on `worker`'s reactor, each run `seconds` apart.
    func scheduleTimerRoutes(on worker: WorkerContext) {
        for timer in script.timerRoutes {
            scheduleTimerRoute(timer, on: worker)
        }
    }

    private func scheduleTimerRoute(_ timer: TimerRoute, on worker: WorkerContext) {
        let interval = UInt64(max(1, timer.interval)) * 1000
        _ = worker.reactor.schedule(afterMilliseconds: interval) { [weak worker, self] in
            guard let worker else { return }
            var execution = ExecutionContext(script: script, message: EmptyScriptMessage(),
                                             proxy: HostProxy(services: worker.attachment as? WorkerServices,
                                                              script: script),
                                             logger: scriptLogger, cache: cache,
                                             stats: statisticsSink)
            _ = script.run(route: timer.route, context: &execution)
            startLaunches(&execution, worker: worker)
            scheduleTimerRoute(timer, on: worker)
        }
    }

    /// The log name of a route (`route[x]`, `failure_route[x]`, …).
    func routeLabel(_ route: RouteID) -> String {
        route.rawValue >= 0 && route.rawValue < script.routeLabels.count ? script.routeLabels[route.rawValue] : ""
    }

    /// Metadata of a line about `context`'s request and the async call it made.
    private static func metadata(_ context: RequestContext, _ request: AsyncRequest) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["function": .string(request.name)]
        if let callID = context.message.callID { metadata[LogMetadataKey.callID] = .string(callID) }
        if let branch = context.transaction?.key.branch ?? (try? context.message.topVia())?.branch {
            metadata[LogMetadataKey.branch] = .string(branch)
        }
        return metadata
    }

    /// The route a proxy-side route number (`RouteID.rawValue`) stands for.
    private func routeID(_ raw: Int) -> RouteID? {
        guard raw >= 0, raw < script.routeNames.count else { return nil }
        return script.route(named: script.routeNames[raw].name, kind: script.routeNames[raw].kind)
    }

    /// Runs `route` for `context`; AVPs come from and go back to the transaction.
    private func run(_ route: RouteID, _ context: RequestContext) {
        var execution = takeExecution(for: context)
        let outcome = script.run(route: route, context: &execution)
        finish(outcome, execution: &execution, context: context)
        park(execution, worker: context.worker)
    }

    /// After a route run: start launched jobs, suspend on `async()`, keep the AVPs with the transaction.
    private func finish(_ outcome: ScriptOutcome, execution: inout ExecutionContext, context: RequestContext) {
        startLaunches(&execution, worker: context.worker)
        if case .suspended(let request) = outcome {
            suspend(request, avps: execution.avps, context: context)
        } else if let transaction = context.transaction {
            transaction.scriptState = execution.avps
        }
    }

    /// `async(f(...), resume_route, timeout)`: the transaction waits, the operation runs, and the
    /// resume route runs on this worker when it completes (or times out, or the call is cancelled).
    private func suspend(_ request: AsyncRequest, avps: AVPStore, context: RequestContext) {
        guard let services = context.worker.attachment as? WorkerServices else {
            logger.error("async() without an async engine on this worker", metadata: Self.metadata(context, request))
            return
        }
        let asyncWorker = services.asyncWorker
        if context.transaction == nil {
            let created = context.core.newTransaction(context)
            if created == 0 {
                // Another copy of the request owns the transaction: this one was absorbed.
                return
            }
            if created < 0 {
                // No transaction for this request (a 2xx ACK, …): as OpenSIPS, the resume route still
                // runs, on this request as the script left it; t_relay there forwards statelessly.
                runWithoutTransaction(request, avps: avps, context: context, services: services)
                return
            }
        }
        guard context.core.suspend(context), let transaction = context.transaction else {
            logger.info("async(): the request cannot be suspended; resume route skipped",
                        metadata: Self.metadata(context, request))
            return
        }
        transaction.scriptState = avps
        let operation = AsyncFunctions.operation(name: request.name, args: request.args, services: services)
        let worker = context.worker
        let core = context.core
        let timeoutMs = request.timeoutMilliseconds.map { UInt64(max(0, $0)) }
        let job = asyncWorker.start(operation, timeoutMs: timeoutMs) { [self] result in
            resume(transaction, request: request, result: result, core: core, worker: worker)
        }
        let owner = AsyncWorkerRef(asyncWorker)
        transaction.setCancelHandler {
            _ = owner.worker.reactor.handle.execute { owner.worker.cancel(job) }
        }
    }

    /// `async()` for a request that has no transaction: the operation runs, then the resume route runs
    /// on the same request context (its message, `$du`, flags) with the AVPs it had.
    private func runWithoutTransaction(_ request: AsyncRequest, avps: AVPStore, context: RequestContext,
                                       services: WorkerServices) {
        let operation = AsyncFunctions.operation(name: request.name, args: request.args, services: services)
        let timeoutMs = request.timeoutMilliseconds.map { UInt64(max(0, $0)) }
        services.asyncWorker.start(operation, timeoutMs: timeoutMs) { [self] result in
            var execution = takeExecution(for: context)
            execution.avps = avps
            AsyncFunctions.complete(request.name, args: request.args, result: result, script: script,
                                    services: services, into: &execution)
            let outcome = script.run(route: request.resumeRoute, context: &execution)
            finish(outcome, execution: &execution, context: context)
            park(execution, worker: context.worker)
            context.core.routeFinished(context)
        }
    }

    /// Runs the resume route of a completed async operation with `$rc` and the output variables set.
    private func resume(_ transaction: ProxyTransaction, request: AsyncRequest, result: AsyncResult,
                        core: ProxyCore, worker: WorkerContext) {
        transaction.setCancelHandler(nil)
        guard let context = core.resume(transaction, worker: worker) else {
            logger.debug("async(): transaction no longer suspended; resume route skipped", metadata: [
                LogMetadataKey.branch: .string(transaction.key.branch), LogMetadataKey.route: .string(routeLabel(request.resumeRoute)),
            ])
            return
        }
        var execution = takeExecution(for: context)
        AsyncFunctions.complete(request.name, args: request.args, result: result, script: script,
                                services: worker.attachment as? WorkerServices, into: &execution)
        let outcome = script.run(route: request.resumeRoute, context: &execution)
        finish(outcome, execution: &execution, context: context)
        park(execution, worker: worker)
        context.core.routeFinished(context)
    }

    /// `launch(f(...), report_route, "param")`: each job runs in parallel with the script; its report
    /// route (if any) runs with `$rc`, the outputs and `$param(1)`, and no SIP message.
    private func startLaunches(_ execution: inout ExecutionContext, worker: WorkerContext) {
        guard !execution.launches.isEmpty else { return }
        let launches = execution.launches
        execution.launches.removeAll(keepingCapacity: true)
        guard let services = worker.attachment as? WorkerServices else { return }
        let asyncWorker = services.asyncWorker
        for launch in launches {
            let operation = AsyncFunctions.operation(name: launch.name, args: launch.args, services: services)
            asyncWorker.start(operation) { [self] result in
                guard let route = launch.reportRoute else { return }
                var report = reportExecution(launch, result: result, services: services)
                _ = script.run(route: route, context: &report)  // async() there is a check error
                startLaunches(&report, worker: worker)
            }
        }
    }

    /// The worker's idle execution context, prepared for `context`'s request (AVPs from its transaction).
    private func takeExecution(for context: RequestContext) -> ExecutionContext {
        let index = context.worker.index < slots.count ? context.worker.index : 0
        let local = context.socketIndex < context.core.settings.listen.count
            ? context.core.settings.listen[context.socketIndex] : nil
        let message = RequestMessageAdapter(context: context, local: local)
        let proxy = RequestProxyAdapter(context: context, script: script)
        var execution: ExecutionContext
        if let existing = slots[index].execution {
            execution = existing
            slots[index].execution = nil
            execution.reset(message: message)
            execution.proxy = proxy
        } else {
            execution = ExecutionContext(script: script, message: message, proxy: proxy, logger: scriptLogger,
                                         cache: cache, stats: statisticsSink)
        }
        if let saved = context.transaction?.scriptState as? AVPStore { execution.avps = saved }
        return execution
    }

    private func park(_ execution: ExecutionContext, worker: WorkerContext) {
        var execution = execution
        execution.proxy = NullProxy.shared
        execution.message = EmptyScriptMessage()
        let index = worker.index < slots.count ? worker.index : 0
        slots[index].execution = execution
    }
}

/// One worker's idle execution context, reused from one route run to the next (saves the
/// allocations of a fresh context per request). Only its worker's thread touches it.
private final class IdleExecution {
    var execution: ExecutionContext?
}

/// Lets a CANCEL arriving on another worker reach the async worker that owns the job.
/// `@unchecked Sendable`: `worker` is only used inside a task executed on its own reactor.
private final class AsyncWorkerRef: @unchecked Sendable {
    let worker: AsyncWorker
    init(_ worker: AsyncWorker) { self.worker = worker }
}

/// The proxy of routes that have no request to act on (onreply, timer, startup and launch report
/// routes): SIP operations fail; host-run functions (avp_db_query, rest_*, exec, ldap_search, …) run
/// synchronously with the worker's services, blocking it as in OpenSIPS.
final class HostProxy: ScriptProxy {
    let services: WorkerServices?
    let script: Script

    init(services: WorkerServices?, script: Script) {
        self.services = services
        self.script = script
    }

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
    func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int {
        AsyncFunctions.invokeSynchronously(call, services: services, script: script, into: &context)
    }
}

/// Placeholder proxy kept in an idle execution context: every operation fails.
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
