import Logging
import Reactor
import SIPCore
import TandemAsync
import TandemProxy
import TandemScript

/// Runs the compiled routing script for the proxy core: the main `route` for new requests,
/// `failure_route[...]` when every branch failed, `onreply_route`s, `branch_route`s, `error_route`,
/// `local_route`, timer and startup routes, resume routes after `async()` and report routes after
/// `launch()`.
///
/// `@unchecked Sendable`: `slots` is never mutated after `init`; the slot object `slots[i]` is only
/// touched by worker `i` (the worker index of the contexts it is handed), so no two threads share one.
/// (An array of values mutated in place by several workers would not do: each element write checks
/// and may copy the shared buffer.)
final class ScriptRouter: RequestRouter, @unchecked Sendable {
    let script: Script
    let cache = LocalCache()
    let statistics = ScriptStatistics()
    let logger: Logger
    let scriptLogger: SwiftLogScriptLogger
    private let slots: [WorkerSlot]
    /// Rounds of report routes that launch again, run at start-up before giving up.
    static let maxLaunchRounds = 100

    init(script: Script, workers: Int, logger: Logger) {
        self.script = script
        self.logger = logger
        self.scriptLogger = SwiftLogScriptLogger(logger: logger)
        self.slots = (0..<max(1, workers)).map { _ in WorkerSlot() }
    }

    /// Hands worker `index` its services (call on that worker's thread, before its loop runs).
    func attach(_ services: WorkerServices, toWorker index: Int) {
        slot(index).services = services
        slot(index).asyncOwner = AsyncWorkerRef(services)
    }

    /// Releases worker `index`'s services and idle context (on that worker's thread, after its loop
    /// ended: its driver pools deregister from its reactor).
    func detach(worker index: Int) {
        slot(index).services = nil
        slot(index).asyncOwner = nil
        slot(index).suspensionOwner = nil
        slot(index).execution = nil
    }

    private func slot(_ index: Int) -> WorkerSlot { slots[index >= 0 && index < slots.count ? index : 0] }

    /// The services of the worker running `worker`'s loop.
    private func services(_ worker: WorkerContext) -> WorkerServices? { slot(worker.index).services }

    /// The sendable handle on `services`' async worker for cancel hooks: one per worker, not one per
    /// suspension.
    func asyncOwner(_ worker: WorkerContext, _ services: WorkerServices) -> AsyncWorkerRef {
        if let owner = slot(worker.index).asyncOwner, owner.services === services { return owner }
        return AsyncWorkerRef(services)
    }

    /// ``asyncOwner(_:_:)`` with the router, the worker's loop context and its proxy core, for
    /// suspensions (they reach them through it: three references less in each; issue 19). The one a worker makes is kept in its
    /// slot (on the worker's loop thread, as the slot's idle context).
    func suspensionOwner(_ worker: WorkerContext, _ core: ProxyCore, _ services: WorkerServices) -> SuspensionOwner {
        let slot = slot(worker.index)
        if let owner = slot.suspensionOwner, owner.async.services === services, owner.worker === worker,
           owner.core === core {
            return owner
        }
        let owner = SuspensionOwner(self, asyncOwner(worker, services), worker: worker, core: core)
        if slot.services === services { slot.suspensionOwner = owner }
        return owner
    }

    /// `update_stat` lands in `statistics`.
    private var statisticsSink: @Sendable (String, Int) -> Void {
        let statistics = self.statistics
        return { name, delta in statistics.update(name, by: delta) }
    }

    /// A context for a route without a request to act on (reply, timer, startup, report, local routes).
    private func hostExecution(message: any ScriptMessage, services: WorkerServices?,
                               reply: ReplyContext? = nil) -> ExecutionContext {
        ExecutionContext(script: script, message: message, proxy: HostProxy(services: services, reply: reply),
                         logger: scriptLogger, cache: cache, stats: statisticsSink)
    }

    // MARK: - Request routes

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        run(script.mainRoute, context, suspendable: true)
    }

    func routeFailure(_ route: Int, _ context: RequestContext) -> RouteVerdict {
        guard let id = routeID(route) else { return .finished }
        return run(id, context, suspendable: true)
    }

    var runsErrorRoute: Bool { script.errorRoute != nil }

    /// `error_route` for a request that failed to parse: it may answer (sl_send_reply) and launch jobs.
    func routeError(_ context: RequestContext) {
        guard let route = script.errorRoute else { return }
        _ = run(route, context)
    }

    func routeBranch(_ route: Int, _ context: RequestContext) -> Bool {
        guard let id = routeID(route) else { return true }
        let message = RequestMessageAdapter(context: context, local: nil)
        let proxy = RequestProxyAdapter(context: context, script: script, services: services(context.worker))
        var execution = ExecutionContext(script: script, message: message, proxy: proxy, logger: scriptLogger,
                                         cache: cache, stats: statisticsSink)
        if let saved = context.transaction?.scriptState as? AVPStore { execution.avps = saved }
        let outcome = script.run(route: id, context: &execution)
        startLaunches(&execution, worker: context.worker)
        if case .dropped = outcome { return false }
        return true
    }

    var runsLocalRoute: Bool { script.localRoute != nil }

    /// `local_route` on a request the proxy generated (the CANCEL of a branch): header changes go into
    /// the request; `drop` discards it; `launch()` jobs start.
    func routeLocal(_ context: RequestContext) -> Bool {
        guard let route = script.localRoute else { return true }
        var execution = hostExecution(message: RequestMessageAdapter(context: context, local: nil),
                                      services: services(context.worker))
        let outcome = script.run(route: route, context: &execution)
        startLaunches(&execution, worker: context.worker)
        if case .dropped = outcome { return false }
        return true
    }

    /// Runs `route` for `context`; AVPs come from and go back to the transaction. `suspendable`: a plain
    /// call of a transparently suspending function may suspend the request (request and failure routes).
    private func run(_ route: RouteID, _ context: RequestContext, suspendable: Bool = false) -> RouteVerdict {
        var execution = takeExecution(for: context)
        execution.allowsSuspension = suspendable && canSuspend(context)
        let outcome = script.run(route: route, context: &execution)
        let verdict = finish(outcome, execution: &execution, context: context)
        park(consume execution, worker: context.worker)
        return verdict
    }

    /// After a route run: start launched jobs, suspend on `async()`, keep the AVPs with the transaction.
    private func finish(_ outcome: ScriptOutcome, execution: inout ExecutionContext,
                        context: RequestContext) -> RouteVerdict {
        startLaunches(&execution, worker: context.worker)
        switch outcome {
        case .suspended(let request):
            return suspend(request, avps: execution.avps, context: context)
        case .dropped, .finished, .exited:
            if let transaction = context.transaction { transaction.scriptState = execution.avps }
            if case .dropped = outcome { return .dropped }
            return .finished
        }
    }

    // MARK: - Reply routes

    var runsReplyRoutes: Bool { script.mainReplyRoute != nil || script.routeNames.contains { $0.kind == .onReply } }

    func routeReply(_ route: Int?, _ context: ReplyContext) -> RouteVerdict {
        var execution = replyExecution(context, avps: context.transactionScriptState as? AVPStore)
        var routes: [RouteID] = []
        if let main = script.mainReplyRoute { routes.append(main) }
        if let route, let id = routeID(route) { routes.append(id) }
        return runReplyRoutes(routes[...], context: context, execution: &execution)
    }

    /// A context for reply routes of `context`'s reply, with the transaction's AVPs.
    private func replyExecution(_ context: ReplyContext, avps: AVPStore?) -> ExecutionContext {
        var execution = hostExecution(message: ReplyMessageAdapter(context: context, local: nil),
                                      services: services(context.worker), reply: context)
        if let avps { execution.avps = avps }
        return execution
    }

    /// Runs reply routes in turn; an `async()` in one of them suspends the reply, and its resume route
    /// (then the remaining reply routes) runs when the operation completes. The AVPs belong to the
    /// transaction: every reply route sees them, and what they set is kept with it.
    private func runReplyRoutes(_ routes: ArraySlice<RouteID>, context: ReplyContext,
                                execution: inout ExecutionContext) -> RouteVerdict {
        var remaining = routes
        while let route = remaining.popFirst() {
            let outcome = script.run(route: route, context: &execution)
            startLaunches(&execution, worker: context.worker)
            switch outcome {
            case .dropped:
                context.transactionScriptState = execution.avps
                return .dropped
            case .suspended(let request):
                return suspendReply(request, avps: execution.avps, context: context, then: remaining)
            case .finished, .exited:
                let avps = execution.avps
                execution.reset(message: execution.message)
                execution.avps = avps
            }
        }
        context.transactionScriptState = execution.avps
        return .finished
    }

    /// `async()` in an `onreply_route`: the core keeps the reply (a ``Suspension``) while the operation
    /// runs; the resume route (then the remaining reply routes) runs with `$rc` and the transaction's
    /// AVPs when it completes, is cancelled (a CANCEL, Timer C: `$rc` = -1) or times out.
    private func suspendReply(_ request: AsyncRequest, avps: AVPStore, context: ReplyContext,
                              then remaining: ArraySlice<RouteID>) -> RouteVerdict {
        context.transactionScriptState = avps
        guard let services = services(context.worker) else {
            logger.error("async() without an async engine on this worker", metadata: [
                "function": .string(request.name), LogMetadataKey.branch: .string(context.transactionBranch),
            ])
            return .finished
        }
        let suspension = context.core.suspend(context)
        let worker = context.worker
        let core = context.core
        let job = startOperation(request, services: services) { [self] result in
            suspension.setCancelHandler(nil)
            guard case .reply(let resumed)? = core.resume(suspension, worker: worker) else { return }
            var execution = replyExecution(resumed, avps: resumed.transactionScriptState as? AVPStore)
            AsyncBindings.complete(request.name, request.arguments, result: result, services: services,
                                   into: &execution)
            let verdict = runReplyRoutes([request.resumeRoute][...] + remaining, context: resumed,
                                         execution: &execution)
            core.routeFinished(resumed, verdict: verdict)
        }
        let owner = asyncOwner(worker, services)
        suspension.setCancelHandler {
            _ = owner.worker.reactor.handle.execute { owner.worker.cancel(job) }
        }
        return .suspended
    }

    // MARK: - Start-up and timer routes

    /// Runs `startup_route` once, before the workers start (no SIP message). `services` belong to the
    /// starting thread: functions such as avp_db_query run synchronously, and `launch()` jobs run to
    /// their end (with their report routes) before the workers start.
    func runStartupRoute(services: WorkerServices?) {
        guard let route = script.startupRoute else { return }
        var execution = hostExecution(message: EmptyScriptMessage(), services: services)
        _ = script.run(route: route, context: &execution)
        runLaunchesSynchronously(&execution, services: services)
    }

    /// `launch()` where no reactor runs yet (startup_route): each job runs on this thread, then its
    /// report route.
    private func runLaunchesSynchronously(_ execution: inout ExecutionContext, services: WorkerServices?) {
        var rounds = 0
        while !execution.launches.isEmpty, rounds < Self.maxLaunchRounds {
            rounds += 1
            let launches = execution.launches
            execution.launches.removeAll()
            for launch in launches {
                let result = services.map {
                    $0.asyncWorker.runSynchronously(AsyncBindings.operation(launch.name, launch.arguments, services: $0))
                } ?? .failure
                guard let route = launch.reportRoute else { continue }
                var report = reportExecution(launch, result: result, services: services)
                _ = script.run(route: route, context: &report)
                execution.launches += report.launches
            }
        }
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
            var execution = hostExecution(message: EmptyScriptMessage(), services: services(worker))
            _ = script.run(route: timer.route, context: &execution)
            startLaunches(&execution, worker: worker)
            scheduleTimerRoute(timer, on: worker)
        }
    }

    // MARK: - async() and launch()

    /// Starts a call's operation on `services`' worker with its timeout (0 or none: `async_timeout`).
    @discardableResult
    private func startOperation(_ request: AsyncRequest, services: WorkerServices,
                                completion: @escaping (AsyncResult) -> Void) -> AsyncJobID {
        let operation = AsyncBindings.operation(request.name, request.arguments, services: services)
        let timeoutMs = request.timeoutMilliseconds.map { UInt64(max(0, $0)) }
        return services.asyncWorker.start(operation, timeoutMs: timeoutMs, completion: completion)
    }

    /// `async(f(...), resume_route, timeout)`: the transaction waits, the operation runs, and the
    /// resume route runs on this worker when it completes (or times out, or the call is cancelled).
    private func suspend(_ request: AsyncRequest, avps: AVPStore, context: RequestContext) -> RouteVerdict {
        guard let services = services(context.worker) else {
            logger.error("async() without an async engine on this worker", metadata: Self.metadata(context, request))
            return .finished
        }
        if context.transaction == nil {
            // The transaction and the suspension keep this message until it resumes: without the room
            // an edit would have used (the resume route's edits, if any, allocate then).
            context.message.trimFieldStorage()
            let created = context.core.newTransaction(context)
            if created == 0 {
                // Another copy of the request owns the transaction: this one was absorbed.
                return .finished
            }
            if created < 0 {
                // No transaction for this request (a 2xx ACK, …): as OpenSIPS, the resume route still
                // runs, on this request as the script left it; t_relay there forwards statelessly.
                startOperation(request, services: services) { [self] result in
                    resume(context, avps: avps, request: KeptAsyncRequest(request), result: result, services: services)
                }
                return .suspended
            }
        }
        guard let transaction = context.transaction else {
            logger.info("async(): the request cannot be suspended; resume route skipped",
                        metadata: Self.metadata(context, request))
            return .finished
        }
        // The suspension is the job (one object): the job starts first, and its end comes in a later
        // loop step, after the transaction keeps the suspension.
        let kept = AsyncBindings.keptWhileRunning(request)
        let owner = suspensionOwner(context.worker, context.core, services)
        let operation = AsyncBindings.operation(request.name, request.arguments, services: services)
        let timeoutMs = request.timeoutMilliseconds.map { UInt64(max(0, $0)) }
        let suspension = services.asyncWorker.start(operation, timeoutMs: timeoutMs, job: { seed in
            RequestSuspension(seed, transaction: transaction, context: context, request: kept, owner: owner)
        })
        _ = context.core.suspend(context, as: suspension)
        transaction.scriptState = avps
        transaction.setCancelHook(.canceller(suspension))
        return .suspended
    }

    /// The one resume entry of request-side routes: the resume route runs on `context` (the suspended
    /// request as the script left it) with `$rc`, the outputs and the AVPs; for a transparently
    /// suspending call (`request.continuesRoute`) the suspended route continues at the call instead,
    /// with its `$var` values as they were.
    func resume(_ context: RequestContext, avps: AVPStore?, request: KeptAsyncRequest, result: AsyncResult,
                        services: WorkerServices) {
        var execution = takeExecution(for: context)
        if let avps { execution.avps = avps }
        execution.allowsSuspension = canSuspend(context)
        AsyncBindings.complete(script.registry[request.function].name, request.arguments, result: result,
                               services: services, into: &execution)
        let outcome = script.resume(request, context: &execution)
        let verdict = finish(outcome, execution: &execution, context: context)
        park(execution, worker: context.worker)
        if verdict != .suspended { context.core.routeFinished(context) }
    }

    /// `launch(f(...), report_route, "param")`: each job runs in parallel with the script; its report
    /// route (if any) runs with `$rc`, the outputs and `$param(1)`, and no SIP message.
    private func startLaunches(_ execution: inout ExecutionContext, worker: WorkerContext) {
        guard !execution.launches.isEmpty else { return }
        let launches = execution.launches
        execution.launches.removeAll(keepingCapacity: true)
        guard let services = services(worker) else { return }
        for launch in launches {
            let operation = AsyncBindings.operation(launch.name, launch.arguments, services: services)
            services.asyncWorker.start(operation) { [self] result in
                guard let route = launch.reportRoute else { return }
                var report = reportExecution(launch, result: result, services: services)
                _ = script.run(route: route, context: &report)  // async() there is a check error
                startLaunches(&report, worker: worker)
            }
        }
    }

    /// The context of a launch report route: `$rc`, the outputs and `$param(1)`, no SIP message.
    private func reportExecution(_ launch: LaunchRequest, result: AsyncResult,
                                 services: WorkerServices?) -> ExecutionContext {
        var report = hostExecution(message: EmptyScriptMessage(), services: services)
        report.params = [launch.param]
        AsyncBindings.complete(launch.name, launch.arguments, result: result, services: services, into: &report)
        return report
    }

    // MARK: - Helpers

    /// Whether a transparently suspending call may suspend `context`'s request: the worker has an async
    /// engine and the request can have a transaction (not an ACK or a CANCEL, which OpenSIPS never
    /// suspends either); elsewhere such a call runs synchronously.
    private func canSuspend(_ context: RequestContext) -> Bool {
        guard slot(context.worker.index).services != nil else { return false }
        switch context.message.method {
        case .ack?, .cancel?, nil: return false
        default: return true
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

    /// The worker's idle execution context, prepared for `context`'s request (AVPs from its transaction).
    private func takeExecution(for context: RequestContext) -> ExecutionContext {
        let slot = slot(context.worker.index)
        let local = context.core.socketAddress(at: context.socketIndex)
        let message = RequestMessageAdapter(context: context, local: local)
        let proxy = RequestProxyAdapter(context: context, script: script, services: slot.services)
        var execution: ExecutionContext
        // Moved out of the slot (not copied: a copy retained and released each of its references).
        if let existing = slot.execution.take() {
            execution = existing
            execution.reset(message: message)
            execution.proxy = proxy
        } else {
            execution = ExecutionContext(script: script, message: message, proxy: proxy, logger: scriptLogger,
                                         cache: cache, stats: statisticsSink)
        }
        if let saved = context.transaction?.scriptState as? AVPStore { execution.avps = saved }
        return execution
    }

    private func park(_ execution: consuming ExecutionContext, worker: WorkerContext) {
        let slot = slot(worker.index)
        execution.proxy = NullProxy.shared
        execution.message = slot.idleMessage
        slot.execution = execution
    }
}

/// One worker's part of the router: its services and its idle execution context, reused from one route
/// run to the next (saves the allocations of a fresh context per request). Only its worker's thread
/// touches it.
private final class WorkerSlot {
    var execution: ExecutionContext?
    /// The message of the idle context (one per worker, not one per route run).
    let idleMessage = EmptyScriptMessage()
    var services: WorkerServices?
    var asyncOwner: AsyncWorkerRef?
    var suspensionOwner: SuspensionOwner?
}

/// Lets a CANCEL arriving on another worker reach the async worker that owns the job.
/// `@unchecked Sendable`: `worker` is only used inside a task executed on its own reactor, `services`
/// only on that worker's loop thread (both are immutable references).
final class AsyncWorkerRef: @unchecked Sendable {
    let worker: AsyncWorker
    /// The worker's services, for the suspensions that hold this handle anyway (one reference less in
    /// each; issue 19). Used on the worker's loop thread only.
    let services: WorkerServices
    init(_ services: WorkerServices) {
        self.worker = services.asyncWorker
        self.services = services
    }
}

/// What each ``RequestSuspension`` of a worker shares: the router, the handle on the worker's async
/// worker and services, its loop context and its proxy core (four references in one, per worker;
/// issue 19). The router keeps it in the worker's slot until ``ScriptRouter/detach(worker:)``, which
/// ends the reference cycle.
/// `@unchecked Sendable`: `async` and `router` are themselves sendable; `worker` and `core` are used on
/// the worker's loop thread only (all immutable references).
final class SuspensionOwner: @unchecked Sendable {
    let router: ScriptRouter
    let async: AsyncWorkerRef
    let worker: WorkerContext
    let core: ProxyCore
    init(_ router: ScriptRouter, _ async: AsyncWorkerRef, worker: WorkerContext, core: ProxyCore) {
        self.router = router
        self.async = async
        self.worker = worker
        self.core = core
    }
}

/// A proxy with no request to act on: every SIP operation fails (-1, nothing armed, nothing is ours).
/// ``HostProxy`` and ``NullProxy`` differ only in what `invoke` does.
protocol NoRequestProxy: ScriptProxy {}

extension NoRequestProxy {
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
}

/// The proxy of routes that have no request to act on (onreply, timer, startup, local and launch
/// report routes): SIP operations fail; host-run functions (avp_db_query, rest_*, exec, ldap_search, …)
/// run synchronously with the worker's services, blocking it as in OpenSIPS.
final class HostProxy: NoRequestProxy {
    let services: WorkerServices?
    /// The reply an onreply_route handles: its transaction answers t_was_cancelled, t_local_replied and
    /// `$T_fr_timeout`/`$T_fr_inv_timeout`.
    let reply: ReplyContext?

    init(services: WorkerServices?, reply: ReplyContext? = nil) {
        self.services = services
        self.reply = reply
    }

    func tWasCancelled() -> Bool { reply.map { $0.core.wasCancelled($0) } ?? false }

    func tLocalReplied(_ which: LocalReplyScope) -> Bool {
        guard let reply else { return false }
        switch which {
        case .all: return reply.core.locallyReplied(reply, .all)
        case .any: return reply.core.locallyReplied(reply, .any)
        case .branch, .last: return reply.core.locallyReplied(reply, .last)
        }
    }

    func transactionTimeout(invite: Bool) -> Int? { reply.map { $0.core.transactionTimeout($0, invite: invite) } }

    /// `t_on_failure(route)` in an onreply_route arms the transaction's failure route (as tm allows);
    /// `t_on_failure("0")` disarms it.
    func tOnFailure(_ route: RouteID) { reply?.armFailureRoute(route.rawValue) }
    func tDisarm(_ kind: RouteKind) { if kind == .failure { reply?.armFailureRoute(nil) } }

    /// `$(<request>...)` in an onreply_route: the transaction's request.
    func contextMessage(_ context: PVContext) -> (any ScriptMessage)? {
        guard context == .request, let reply, let request = reply.transactionRequest else { return nil }
        return ContextMessageAdapter(request.message, source: request.source, local: nil,
                                     proto: reply.core.settings.transport(at: request.socketIndex).rawValue)
    }

    /// nathelper on the reply of an onreply_route.
    func natUACTest(flags: Int) -> Int {
        reply.map { Int($0.core.natUACTest($0, tests: ProxyCore.NATTests(rawValue: flags))) } ?? -1
    }

    func fixNatedContact(uriParameters: String?) -> Int {
        reply.map { Int($0.core.fixNatedContact($0, uriParameters: uriParameters)) } ?? -1
    }

    /// In an onreply_route branch 0 is the branch the reply came on.
    func branchFlags(index: Int) -> UInt64? {
        guard index == 0, let reply else { return nil }
        return reply.core.branchFlags(reply)
    }

    func setBranchFlags(index: Int, _ flags: UInt64) -> Bool {
        guard index == 0, let reply else { return false }
        return reply.core.setBranchFlags(reply, flags)
    }

    func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int {
        AsyncBindings.invokeSynchronously(call.name, call.arguments, services: services, into: &context)
    }
}

/// Placeholder proxy kept in an idle execution context: every operation fails.
final class NullProxy: NoRequestProxy, @unchecked Sendable {
    static let shared = NullProxy()
    func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int { -1 }
}
