/// Entry point of the interpreter: runs compiled route closures and maps control flow to outcomes.
extension Script {
    /// Runs a route. `context.params` is left as set by the caller (launch report routes use it).
    public func run(route: RouteID, context: inout ExecutionContext) -> ScriptOutcome {
        guard route.rawValue >= 0 && route.rawValue < table.bodies.count else { return .finished }
        context.pendingAsync = nil
        context.stoppedFlow = nil
        context.route = route
        switch table.bodies[route.rawValue].run(&context) {
        case .next, .returned, .breakOut: return .finished
        case .exit: return .exited
        case .drop: return .dropped
        case .suspend:
            guard let r = context.pendingAsync else { return .exited }
            context.pendingAsync = nil
            return .suspended(r)
        }
    }
}
