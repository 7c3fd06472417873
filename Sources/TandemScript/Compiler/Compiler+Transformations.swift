/// Compilation of transformation chains (`$(var(x){s.len})`): parsed and built once here into
/// ``CompiledTransformation`` steps; each call only applies them. Consecutive part-picking
/// transformations (`{nameaddr.uri}{uri.user}`) become one pass over the input's bytes. A chain of one
/// common step gets a reader of its own (one closure around the input's reader, no switch).
extension Compiler {
    mutating func compileTransformations(_ texts: [String], input: @escaping ValueFn) -> ValueFn {
        var specs: [TransformationSpec] = []
        for text in texts {
            guard case .success(let spec) = Transformations.parse(text),
                  case .success = Transformations.build(spec) else { return { _ in .null } }
            specs.append(spec)
        }
        var steps: [CompiledTransformation] = []
        for spec in specs {
            let step = compileTransformation(spec)
            if case .part(let next) = step, let last = steps.last {
                if case .part(let first) = last { steps[steps.count - 1] = .parts([first, next]); continue }
                if case .parts(let chain) = last { steps[steps.count - 1] = .parts(chain + [next]); continue }
            }
            steps.append(step)
        }
        return Compiler.reader(steps, input: input)
    }

    /// The reader applying `steps` to what `input` reads.
    static func reader(_ steps: [CompiledTransformation], input: @escaping ValueFn) -> ValueFn {
        guard steps.count == 1 else {
            return { ctx in
                var v = input(&ctx)
                for step in steps { v = step.apply(v, &ctx) }
                return v
            }
        }
        switch steps[0] {
        case .length: return { ctx in Transformations.length(input(&ctx)) }
        case .integer: return { ctx in .int(StringTransformations.leadingInt(input(&ctx))) }
        case .lowercase: return { ctx in StringTransformations.mapCase(input(&ctx), from: 65, to: 90, shift: 32) }
        case .uppercase: return { ctx in StringTransformations.mapCase(input(&ctx), from: 97, to: 122, shift: -32) }
        case .part(let p): return { ctx in Transformations.slice(input(&ctx), p) }
        case .parts(let chain): return { ctx in Transformations.slice(input(&ctx), chain) }
        case .paramValue(let key, let separator):
            return { ctx in ParamTransformations.value(input(&ctx), key, separator) }
        case .closure(let impl, let arguments): return { ctx in impl(input(&ctx), arguments) }
        case .dynamic:
            let step = steps[0]
            return { ctx in
                let v = input(&ctx)
                return step.apply(v, &ctx)
            }
        }
    }

    private mutating func compileTransformation(_ spec: TransformationSpec) -> CompiledTransformation {
        if let common = CompiledTransformation.common(spec) { return common }
        guard case .success(let impl) = Transformations.build(spec) else { return .closure({ _, _ in .null }, arguments: []) }
        var readers: [ValueFn?] = []
        var constants: [ScriptValue] = []
        for a in spec.arguments {
            switch a {
            case .literal(let s):
                readers.append(nil)
                // A canonical integer ("4", "-1") is passed as one, so numeric parameters are not
                // parsed again on every call; its text is unchanged.
                if let i = Int(s), String(i) == s { constants.append(.int(i)) } else { constants.append(.string(s)) }
            case .pv(let p): readers.append(compilePVRead(p)); constants.append(.null)
            }
        }
        if readers.allSatisfy({ $0 == nil }) { return .closure(impl, arguments: constants) }
        return .dynamic(impl, fixed: constants, readers: readers)
    }
}
