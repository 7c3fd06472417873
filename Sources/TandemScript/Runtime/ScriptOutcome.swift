/// Request to run a function asynchronously and resume the script later in `resumeRoute`.
public struct AsyncRequest: Sendable {
    public var function: FunctionID
    public var name: String
    public var args: [ScriptValue]
    /// Output variables of each declared argument, resolved at compile time.
    public var outputs: [[OutputVariable]] = []
    public var resumeRoute: RouteID
    /// Timeout in milliseconds from the async() call, if any (decimal seconds such as `0.5` keep their
    /// fraction).
    public var timeoutMilliseconds: Int?
    /// Set for a plain call of a transparently suspending function: the route does not go on in a
    /// resume route but continues at the call (``Script/resume(_:context:)``); `resumeRoute` is then the
    /// route the host ran (the main route, a failure route, an async() resume route).
    public var continuation: ScriptContinuation?

    /// The timeout in whole seconds (``timeoutMilliseconds`` / 1000), if any. Computed, not stored: the
    /// request rides along with every suspended transaction (issue 19: memory per suspended transaction).
    public var timeout: Int? { timeoutMilliseconds.map { $0 / 1000 } }

    /// Whether completing the request continues the suspended route at its call (no resume route).
    public var continuesRoute: Bool { continuation != nil }

    /// The evaluated arguments with their output variables.
    public var arguments: HostCallArguments { HostCallArguments(values: args, outputs: outputs) }

    /// Seconds given as an integer or a decimal text (`2`, `"0.5"`) in milliseconds; nil if not a number.
    public static func milliseconds(_ value: ScriptValue) -> Int? {
        switch value {
        case .int(let seconds): return seconds >= 0 ? seconds.multipliedReportingOverflow(by: 1000).partialValue : nil
        case .string(let text):
            guard let seconds = Double(text), seconds >= 0, seconds < 1e9 else { return nil }
            return Int((seconds * 1000).rounded())
        case .null: return nil
        }
    }
}

/// What a request suspended in `async()` keeps of its ``AsyncRequest`` until it resumes: the function
/// (its id: the name is the script's ``FunctionRegistry``'s), the arguments read at completion, the resume
/// route and the continuation; not the timeout, which only starting the call reads. 45 bytes where the
/// request is 88 (issue 19: memory per suspended transaction).
public struct KeptAsyncRequest: Sendable {
    public let function: FunctionID
    public let args: [ScriptValue]
    public let outputs: [[OutputVariable]]
    let continuation: ScriptContinuation?
    /// ``resumeRoute`` in two parts, the number in 32 bits (route tables are far smaller; a number out
    /// of range is clamped, and stays out of range).
    private let resumeRouteNumber: Int32
    private let resumeRouteKind: RouteKind

    /// The part of `request` read when it resumes; without the argument values unless `keepingArguments`.
    public init(_ request: AsyncRequest, keepingArguments: Bool = true) {
        function = request.function
        args = keepingArguments ? request.args : []
        outputs = request.outputs
        continuation = request.continuation
        resumeRouteNumber = Int32(clamping: request.resumeRoute.rawValue)
        resumeRouteKind = request.resumeRoute.kind
    }

    /// The route that runs (or continues) when the request resumes.
    public var resumeRoute: RouteID { RouteID(rawValue: Int(resumeRouteNumber), kind: resumeRouteKind) }

    /// The evaluated arguments with their output variables.
    public var arguments: HostCallArguments { HostCallArguments(values: args, outputs: outputs) }
}

/// A `launch()` job: run in background; run `reportRoute` (with `$param(1)` = `param`) when done.
public struct LaunchRequest: Sendable {
    public var function: FunctionID
    public var name: String
    public var args: [ScriptValue]
    /// Output variables of each declared argument, resolved at compile time.
    public var outputs: [[OutputVariable]] = []
    public var reportRoute: RouteID?
    public var param: ScriptValue

    /// The evaluated arguments with their output variables.
    public var arguments: HostCallArguments { HostCallArguments(values: args, outputs: outputs) }
}

/// How a script run ended.
public enum ScriptOutcome: Sendable {
    /// The route ran to its end or returned.
    case finished
    /// `exit`, `return(0)`, or a function returning 0.
    case exited
    /// `drop`: the message must be discarded.
    case dropped
    /// `async()`: run the request, then call `run(route: request.resumeRoute, ...)` with `$rc` set; or a
    /// transparently suspending call: run it, then `resume(request, ...)` with `$rc` set.
    case suspended(AsyncRequest)
}
