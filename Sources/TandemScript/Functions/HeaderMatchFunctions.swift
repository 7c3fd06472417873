/// sipmsgops `remove_hf_re(regex)`, `remove_hf_glob(pattern)`, `is_present_hf_re(regex)` and
/// `is_present_hf_glob(pattern)`: header names matched by a POSIX extended regex or a shell glob
/// (`*`, `?`), case-insensitively. A constant pattern is compiled once.
enum HeaderMatchFunctions {
    private static let modules = ["sipmsgops", "textops"]
    private static let routes = RouteKindSet.message

    static let specs: [FunctionSpec] = [
        spec("remove_hf_re", glob: false, remove: true),
        spec("remove_hf_glob", glob: true, remove: true),
        spec("is_present_hf_re", glob: false, remove: false),
        spec("is_present_hf_glob", glob: true, remove: false),
    ]

    /// Removes (or looks for) the headers whose name matches; 1 when any did, -1 otherwise.
    private static func spec(_ name: String, glob: Bool, remove: Bool) -> FunctionSpec {
        FunctionSpec(name, modules: modules, args: [.string], routes: routes, binder: { _, _, args in
            let run: @Sendable (inout ExecutionContext, @Sendable (String) -> Bool) -> Int = { ctx, matches in
                var seen: Set<String> = []
                var hit = false
                for header in ctx.message.headerNames where seen.insert(header.lowercased()).inserted {
                    guard matches(header) else { continue }
                    hit = true
                    if !remove { return 1 }
                    _ = ctx.message.removeHeader(named: header)
                }
                return hit ? 1 : -1
            }
            if case .string(let pattern)? = args.constant(0) {
                if glob {
                    let p = Array(pattern.lowercased().utf8)
                    return { ctx in run(&ctx) { Glob.matches(p, Array($0.lowercased().utf8)) } }
                }
                if case .success(let re) = POSIXRegex.compile(pattern) {
                    return { ctx in run(&ctx) { re.matches($0) } }
                }
            }
            let patternFn = args.value(0)
            return { ctx in
                let pattern = patternFn(&ctx).stringValue
                if glob {
                    let p = Array(pattern.lowercased().utf8)
                    return run(&ctx) { Glob.matches(p, Array($0.lowercased().utf8)) }
                }
                guard case .success(let re) = POSIXRegex.compile(pattern) else { return -1 }
                return run(&ctx) { re.matches($0) }
            }
        })
    }
}

/// Shell-style glob over bytes: `*` any run, `?` one byte, everything else literal.
enum Glob {
    static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star = -1, mark = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == 63 || pattern[p] == text[t]) {
                p += 1; t += 1
            } else if p < pattern.count && pattern[p] == 42 {
                star = p; mark = t; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == 42 { p += 1 }
        return p == pattern.count
    }
}
