/// Compilation of transformation chains (`$(var(x){s.len})`): parsed and built once here; each
/// call only runs the built closures.
extension Compiler {
    mutating func compileTransformations(_ texts: [String], input: @escaping ValueFn) -> ValueFn {
        var fn = input
        for text in texts {
            guard case .success(let spec) = Transformations.parse(text),
                  case .success(let impl) = Transformations.build(spec) else { return { _ in .null } }
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
            let previous = fn
            if readers.allSatisfy({ $0 == nil }) {
                let args = constants
                fn = { ctx in impl(previous(&ctx), args) }
            } else {
                let dynamic = readers
                let fixed = constants
                fn = { ctx in
                    let v = previous(&ctx)
                    var args = fixed
                    for (i, r) in dynamic.enumerated() { if let r { args[i] = r(&ctx) } }
                    return impl(v, args)
                }
            }
        }
        return fn
    }
}
