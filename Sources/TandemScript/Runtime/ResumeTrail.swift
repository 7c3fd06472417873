/// Where one compiled frame was when a transparently suspending call stopped the route: the resume
/// trail is a stack of these, pushed innermost first while the route unwinds, and popped outermost
/// first when ``Script/resume(_:context:)`` fast-forwards the frames back to the call.
enum ResumeMark: Sendable {
    /// A statement of a block or a switch (`-1`: the switch subject), the part of an `if` (0 condition,
    /// 1 then, 2 else), or the side of `&&`/`||`/a binary operator (0: left; 1: right).
    case at(Int)
    /// The right side of a binary value operator suspended; the left side had this value.
    case value(ScriptValue)
    /// A `route(x)` call: the parameters of the called route.
    case params([ScriptValue])
    /// A `while` loop: iterations begun, and whether the body (not the condition) suspended.
    case loop(iterations: Int, inBody: Bool)
    /// A `for each` loop: the values it iterates and the index of the one being run.
    case forEach([ScriptValue], index: Int)
}

/// What a route stopped mid-way by a transparently suspending call needs to continue at that call:
/// the resume trail of its frames and its `$var` values (kept with the suspension, not in the worker,
/// so they survive it).
public struct ScriptContinuation: Sendable {
    var marks: [ResumeMark] = []
    var vars: [ScriptValue] = []

    /// How many frames the trail holds (diagnostics, tests).
    public var depth: Int { marks.count }
}
