/// Compilation of transformation chains (`$(var(x){s.len})`): parsed and built once here; each
/// call only runs the built closures. Consecutive part-picking transformations (`{nameaddr.uri}{uri.user}`)
/// become one pass over the input's bytes (``Transformations/slice(_:_:)-(_,[TransformSlicer])``).
extension Compiler {
    mutating func compileTransformations(_ texts: [String], input: @escaping ValueFn) -> ValueFn {
        var specs: [TransformationSpec] = []
        for text in texts {
            guard case .success(let spec) = Transformations.parse(text),
                  case .success = Transformations.build(spec) else { return { _ in .null } }
            specs.append(spec)
        }
        var fn = input
        var i = 0
        while i < specs.count {
            if let first = Transformations.slicer(specs[i]) {
                var chain = [first]
                i += 1
                while i < specs.count, let next = Transformations.slicer(specs[i]) {
                    chain.append(next)
                    i += 1
                }
                let previous = fn
                if chain.count == 1 {
                    fn = { ctx in Transformations.slice(previous(&ctx), first) }
                } else {
                    let slicers = chain
                    fn = { ctx in Transformations.slice(previous(&ctx), slicers) }
                }
                continue
            }
            fn = compileTransformation(specs[i], input: fn)
            i += 1
        }
        return fn
    }

    private mutating func compileTransformation(_ spec: TransformationSpec, input previous: @escaping ValueFn) -> ValueFn {
        guard case .success(let impl) = Transformations.build(spec) else { return { _ in .null } }
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
        if readers.allSatisfy({ $0 == nil }) {
            let args = constants
            return { ctx in impl(previous(&ctx), args) }
        }
        let dynamic = readers
        let fixed = constants
        return { ctx in
            let v = previous(&ctx)
            var args = fixed
            for (i, r) in dynamic.enumerated() { if let r { args[i] = r(&ctx) } }
            return impl(v, args)
        }
    }
}
