/// Control-flow signal returned by compiled statements.
enum Flow: Sendable, Equatable {
    case next, breakOut, returned, exit, drop, suspend
}

/// Result of evaluating a condition: OpenSIPS lets a function returning 0 stop the script.
enum Cond: Sendable {
    case yes, no, stop(Flow)
}

typealias StmtFn = @Sendable (inout ExecutionContext) -> Flow
typealias ValueFn = @Sendable (inout ExecutionContext) -> ScriptValue
typealias CondFn = @Sendable (inout ExecutionContext) -> Cond
/// A bound function call; returns the OpenSIPS return code (>0 true, <0 false, 0 exit).
typealias FunctionImpl = @Sendable (inout ExecutionContext) -> Int

/// A writable script location with OpenSIPS `=` semantics (`$avp` pushes, NULL deletes).
struct LValue: Sendable {
    let assign: @Sendable (inout ExecutionContext, ScriptValue) -> Void
    let text: String
}

/// A compiled statement stored in an array (a struct field keeps the closure's natural
/// abstraction, so calling it needs no reabstraction thunk).
struct StmtBox: Sendable {
    let run: StmtFn
}
