/// Entry point of the interpreter: runs compiled route closures and maps control flow to outcomes.
extension Script {
    /// Runs a route. `context.params` is left as set by the caller (launch report routes use it).
    public func run(route: RouteID, context: inout ExecutionContext) -> ScriptOutcome {
        guard route.rawValue >= 0 && route.rawValue < table.bodies.count else { return .finished }
        context.pendingAsync = nil
        context.stoppedFlow = nil
        context.route = route
        return outcome(table.bodies[route.rawValue].run(&context), route: route, context: &context)
    }

    /// Continues a route stopped by a transparently suspending call (`request.continuesRoute`) at that
    /// call: the host has set `$rc` and the call's outputs (as for a resume route); the frames on the
    /// way fast-forward along the resume trail without evaluating anything again, the call returns
    /// `$rc`, and the route goes on from there. `$var` values are those the route had at the call.
    /// A request without a continuation runs its resume route instead.
    public func resume(_ request: AsyncRequest, context: inout ExecutionContext) -> ScriptOutcome {
        resume(request.resumeRoute, continuation: request.continuation, context: &context)
    }

    /// ``resume(_:context:)-(AsyncRequest,_)`` for the part of the request a suspension keeps.
    public func resume(_ request: KeptAsyncRequest, context: inout ExecutionContext) -> ScriptOutcome {
        resume(request.resumeRoute, continuation: request.continuation, context: &context)
    }

    private func resume(_ route: RouteID, continuation: ScriptContinuation?,
                        context: inout ExecutionContext) -> ScriptOutcome {
        guard let continuation else { return run(route: route, context: &context) }
        guard route.rawValue >= 0 && route.rawValue < table.bodies.count else { return .finished }
        context.pendingAsync = nil
        context.stoppedFlow = nil
        context.route = route
        if continuation.vars.count == context.vars.count { context.vars = continuation.vars }
        context.resumeMarks = continuation.marks
        context.resumeValue = context.rc
        context.resuming = true
        let flow = table.bodies[route.rawValue].run(&context)
        if context.resuming { _ = context.lostTrail() }
        return outcome(flow, route: route, context: &context)
    }

    private func outcome(_ flow: Flow, route: RouteID, context: inout ExecutionContext) -> ScriptOutcome {
        switch flow {
        case .next, .returned, .breakOut: return .finished
        case .exit: return .exited
        case .drop: return .dropped
        case .suspend:
            guard var request = context.pendingAsync else { return .exited }
            context.pendingAsync = nil
            if request.continuation != nil {
                request.resumeRoute = route
                request.continuation = ScriptContinuation(marks: context.resumeMarks, vars: context.vars)
            }
            if !context.resumeMarks.isEmpty { context.resumeMarks.removeAll(keepingCapacity: true) }
            return .suspended(request)
        }
    }
}
