/// Message inspection and header manipulation functions (sipmsgops/textops/maxfwd).
enum MessageFunctions {
    private static let hdrModules = ["sipmsgops", "textops"]
    private static let msgRoutes = RouteKindSet.message

    static let specs: [FunctionSpec] = [
        FunctionSpec("is_method", modules: hdrModules, args: [.string], routes: msgRoutes, binder: { _, _, args in
            if case .string(let s)? = args.constant(0) {
                let methods = s.split(separator: "|").map { String($0).trimmingSpaces() }
                if methods.count == 1 {
                    let m = methods[0]
                    return { ctx in ctx.message.method == m ? 1 : -1 }
                }
                return { ctx in
                    let m = ctx.message.method
                    return methods.contains(m) ? 1 : -1
                }
            }
            let dyn = args.value(0)
            return { ctx in
                let list = dyn(&ctx).stringValue.split(separator: "|")
                let m = ctx.message.method
                return list.contains { $0 == m } ? 1 : -1
            }
        }),
        FunctionSpec("has_totag", modules: hdrModules, routes: msgRoutes, binder: { _, _, _ in
            { ctx in ctx.message.hasToTag ? 1 : -1 }
        }),
        FunctionSpec("append_hf", modules: hdrModules, args: [.string, .string], min: 1, routes: msgRoutes,
                     binder: { _, _, args in
            let text = args.value(0)
            return { ctx in ctx.message.appendHeader(text(&ctx).stringValue); return 1 }
        }),
        FunctionSpec("insert_hf", modules: hdrModules, args: [.string, .string], min: 1, routes: msgRoutes,
                     binder: { _, _, args in
            let text = args.value(0)
            return { ctx in ctx.message.insertHeader(text(&ctx).stringValue); return 1 }
        }),
        FunctionSpec("remove_hf", modules: hdrModules, args: [.string], routes: msgRoutes, binder: { _, _, args in
            let name = args.value(0)
            return { ctx in ctx.message.removeHeader(named: name(&ctx).stringValue) > 0 ? 1 : -1 }
        }),
        FunctionSpec("is_present_hf", modules: hdrModules, args: [.string], routes: msgRoutes, binder: { _, _, args in
            let name = args.value(0)
            return { ctx in ctx.message.isHeaderPresent(named: name(&ctx).stringValue) ? 1 : -1 }
        }),
        FunctionSpec("mf_process_maxfwd_header", modules: ["maxfwd"], args: [.int], routes: RouteKindSet([.request]),
                     binder: { _, _, args in
            // As OpenSIPS maxfwd: the argument is the value of a header added when there is none; a
            // present header is decremented, and capped at modparam("maxfwd", "max_limit") (the
            // compiler passes it as a second argument; default 256).
            let valueFn = args.value(0)
            let maxLimitFn = args.value(1)   // .null when absent: 256
            return { ctx in
                let current = ctx.message.get(.header, name: "Max-Forwards", index: 0)
                if current.isNull {
                    let value = valueFn(&ctx).intValue ?? 70
                    ctx.message.appendHeader("Max-Forwards: \(value)\r\n")
                    return 2
                }
                guard var n = MessageFunctions.parseCount(current), n >= 0 else { return -2 }
                if n == 0 { return -1 }
                n = Swift.min(n - 1, maxLimitFn(&ctx).intValue ?? 256)
                _ = ctx.message.replaceHeader(named: "Max-Forwards", value: String(n))
                return 1
            }
        }),
    ]

    /// Parses a header value such as " 70 " without allocating.
    static func parseCount(_ v: ScriptValue) -> Int? {
        if case .int(let i) = v { return i }
        guard case .string(var s) = v else { return nil }
        return s.withUTF8 { b -> Int? in
            var i = 0, n = 0, digits = 0
            while i < b.count && (b[i] == 32 || b[i] == 9) { i += 1 }
            while i < b.count && b[i] >= 48 && b[i] <= 57 {
                n = n &* 10 &+ Int(b[i] - 48)
                digits += 1
                if digits > 9 { return nil }
                i += 1
            }
            while i < b.count && (b[i] == 32 || b[i] == 9) { i += 1 }
            return digits > 0 && i == b.count ? n : nil
        }
    }
}
