/// One step of a transformation chain as the compiler leaves it. The common transformations are
/// cases with their parameters already parsed (applied by a switch: no closure call, no argument
/// array per evaluation); every other one is the closure its definition built, with its constant
/// parameters and readers for the pseudo-variable ones.
enum CompiledTransformation: Sendable {
    /// `s.len`
    case length
    /// `s.int`
    case integer
    /// `s.tolower`
    case lowercase
    /// `s.toupper`
    case uppercase
    /// One part-picking transformation (`uri.user`).
    case part(PartPicker)
    /// Consecutive part-picking transformations, in one pass (`{nameaddr.uri}{uri.user}`).
    case parts([PartPicker])
    /// `param.value` with a constant name (as bytes) and separator.
    case paramValue(key: [UInt8], separator: UInt8)
    /// Any other transformation, with constant parameters only.
    case closure(TransformImpl, arguments: [ScriptValue])
    /// Any other transformation with pseudo-variable parameters (`readers[i]` set where the parameter
    /// is one; `fixed[i]` holds the constant ones).
    case dynamic(TransformImpl, fixed: [ScriptValue], readers: [ValueFn?])

    /// The case for `spec` if it is a common one with constant parameters.
    static func common(_ spec: TransformationSpec) -> CompiledTransformation? {
        if let p = Transformations.picker(spec) { return .part(p) }
        switch (spec.name, spec.arguments.count) {
        case ("s.len", 0): return .length
        case ("s.int", 0): return .integer
        case ("s.tolower", 0): return .lowercase
        case ("s.toupper", 0): return .uppercase
        case ("param.value", 1), ("param.value", 2):
            var literals: [String] = []
            for a in spec.arguments {
                guard case .literal(let s) = a else { return nil }
                literals.append(s)
            }
            let separator = literals.count > 1 ? literals[1].utf8.first ?? 59 : 59
            return .paramValue(key: Array(literals[0].utf8), separator: separator)
        default: return nil
        }
    }

    /// The result of this step on `v`.
    func apply(_ v: ScriptValue, _ ctx: inout ExecutionContext) -> ScriptValue {
        switch self {
        case .length: return Transformations.length(v)
        case .integer: return .int(StringTransformations.leadingInt(v))
        case .lowercase: return StringTransformations.mapCase(v, from: 65, to: 90, shift: 32)
        case .uppercase: return StringTransformations.mapCase(v, from: 97, to: 122, shift: -32)
        case .part(let p): return Transformations.slice(v, p)
        case .parts(let chain): return Transformations.slice(v, chain)
        case .paramValue(let key, let separator): return ParamTransformations.value(v, key, separator)
        case .closure(let impl, let arguments): return impl(v, arguments)
        case .dynamic(let impl, let fixed, let readers):
            var args = fixed
            for (i, r) in readers.enumerated() { if let r { args[i] = r(&ctx) } }
            return impl(v, args)
        }
    }
}
