/// Core functions: xlog, flags, statistics and is_myself.
enum CoreFunctions {
    static let specs: [FunctionSpec] = [
        FunctionSpec("xlog", args: [.logLevel, .string], min: 1, leadingOptional: true, binder: { _, _, args in
            let fmt = args.value(args.count - 1)
            var fixedLevel = ScriptLogLevel.error
            var dyn: ValueFn?
            if args.count == 2 {
                switch args[0] {
                case .level(let l): fixedLevel = l
                default: dyn = args.value(0)
                }
            }
            let level = fixedLevel
            let dynamicLevel = dyn
            return { ctx in
                var l = level
                if let dynamicLevel {
                    let v = dynamicLevel(&ctx)
                    l = v.intValue.flatMap { ScriptLogLevel(rawValue: $0) }
                        ?? ScriptLogLevel(name: v.stringValue) ?? .error
                }
                guard l <= ctx.logLevel else { return 1 }
                let text = fmt(&ctx).stringValue
                ctx.logger.log(l, text)
                return 1
            }
        }),
        flagSpec("setflag") { ctx, bit in ctx.message.flags |= bit; return 1 },
        flagSpec("resetflag") { ctx, bit in ctx.message.flags &= ~bit; return 1 },
        flagSpec("isflag") { ctx, bit in ctx.message.flags & bit != 0 ? 1 : -1 },
        FunctionSpec("update_stat", modules: ["statistics"], args: [.string, .int], binder: { _, _, args in
            let name = args.value(0), delta = args.value(1)
            return { ctx in
                let n = name(&ctx).stringValue
                let d = delta(&ctx).intValue ?? 0
                ctx.stats?(n, d)
                return 1
            }
        }),
        FunctionSpec("is_myself", args: [.string], routes: .all, binder: { _, _, args in
            let target = args.value(0)
            return { ctx in
                let (host, port) = URIHost.split(target(&ctx).stringValue)
                return ctx.proxy.isMyself(host: host, port: port) ? 1 : -1
            }
        }),
    ]

    private static func flagSpec(_ name: String,
                                 _ body: @escaping @Sendable (inout ExecutionContext, UInt64) -> Int) -> FunctionSpec {
        FunctionSpec(name, args: [.flag], routes: .message, binder: { _, _, args in
            if case .flag(let n) = args[0] {
                let bit: UInt64 = 1 << UInt64(n)
                return { ctx in body(&ctx, bit) }
            }
            let dyn = args.value(0)
            return { ctx in
                guard let n = dyn(&ctx).intValue, n >= 0, n < 64 else { return -1 }
                return body(&ctx, 1 << UInt64(n))
            }
        })
    }
}

/// Minimal host/port extraction from a SIP URI or `host[:port]` text (for is_myself / `== myself`).
enum URIHost {
    static func split(_ text: String) -> (host: String, port: Int) {
        var text = text
        return text.withUTF8 { b -> (String, Int) in
            var i = 0
            let n = b.count
            if let lt = b.firstIndex(of: UInt8(ascii: "<")) { i = lt + 1 }
            // scheme
            var j = i
            while j < n && j - i < 5 && b[j] != UInt8(ascii: ":") && b[j] != UInt8(ascii: "@") { j += 1 }
            if j < n && b[j] == UInt8(ascii: ":") {
                let len = j - i
                let isScheme = (len == 3 || len == 4) && (lower(b[i]) == UInt8(ascii: "s") || lower(b[i]) == UInt8(ascii: "t"))
                if isScheme { i = j + 1 }
            }
            // user part ends at the last '@' before any ';', '?' or '>'
            var end = i
            while end < n && b[end] != UInt8(ascii: ">") && b[end] != UInt8(ascii: "?") { end += 1 }
            var at = -1
            var k = i
            while k < end { if b[k] == UInt8(ascii: "@") { at = k }; k += 1 }
            if at >= 0 { i = at + 1 }
            var hostStart = i
            var hostEnd: Int
            if i < n && b[i] == UInt8(ascii: "[") {
                hostStart = i + 1
                hostEnd = hostStart
                while hostEnd < n && b[hostEnd] != UInt8(ascii: "]") { hostEnd += 1 }
                i = min(n, hostEnd + 1)
            } else {
                hostEnd = i
                while hostEnd < n {
                    let c = b[hostEnd]
                    if c == UInt8(ascii: ":") || c == UInt8(ascii: ";") || c == UInt8(ascii: ">") || c == UInt8(ascii: "?") { break }
                    hostEnd += 1
                }
                i = hostEnd
            }
            var port = 0
            if i < n && b[i] == UInt8(ascii: ":") {
                i += 1
                while i < n && b[i] >= 48 && b[i] <= 57 {
                    port = port &* 10 &+ Int(b[i] - 48)
                    if port > 65535 { port = 0; break }
                    i += 1
                }
            }
            let host = String(decoding: UnsafeBufferPointer(rebasing: b[hostStart..<hostEnd]), as: UTF8.self)
            return (host, port)
        }
    }

    private static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
}
