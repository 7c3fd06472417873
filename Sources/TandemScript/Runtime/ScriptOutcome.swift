/// Request to run a function asynchronously and resume the script later in `resumeRoute`.
public struct AsyncRequest: Sendable {
    public var function: FunctionID
    public var name: String
    public var args: [ScriptValue]
    public var resumeRoute: RouteID
    /// Timeout in seconds from the async() call, if any.
    public var timeout: Int?
}

/// A `launch()` job: run in background; run `reportRoute` (with `$param(1)` = `param`) when done.
public struct LaunchRequest: Sendable {
    public var function: FunctionID
    public var name: String
    public var args: [ScriptValue]
    public var reportRoute: RouteID?
    public var param: ScriptValue
}

/// How a script run ended.
public enum ScriptOutcome: Sendable {
    /// The route ran to its end or returned.
    case finished
    /// `exit`, `return(0)`, or a function returning 0.
    case exited
    /// `drop`: the message must be discarded.
    case dropped
    /// `async()`: run the request, then call `run(route: request.resumeRoute, ...)` with `$rc` set.
    case suspended(AsyncRequest)
}
