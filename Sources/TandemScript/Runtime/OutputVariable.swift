/// A variable a host-run function writes its results into (`$var(x)`, `$avp(x)`, `$ru`, `$du`, …),
/// resolved when the script is compiled: the host assigns through it, without parsing its text.
public struct OutputVariable: Sendable {
    let write: @Sendable (inout ExecutionContext, ScriptValue) -> Void
    /// The variable as written in the script (`$avp(credit)`), for logs.
    public let text: String

    /// Assigns `value` as an output parameter does: `$var` and message variables take it, `$avp`
    /// adds it on top of the earlier values.
    public func assign(_ value: ScriptValue, in context: inout ExecutionContext) {
        write(&context, value)
    }
}

/// The arguments of one host-run function call, evaluated, with its output variables.
public struct HostCallArguments: Sendable {
    /// Evaluated arguments; output arguments keep their source text. A query's bound values follow
    /// the declared arguments.
    public var values: [ScriptValue]
    /// The output variables of each declared argument (empty for an input argument).
    public var outputs: [[OutputVariable]]

    /// The output variables of argument `index` (0-based), empty if it has none.
    public func outputs(of index: Int) -> [OutputVariable] {
        index < outputs.count ? outputs[index] : []
    }
}
