/// Core functions: xlog/log, flags, statistics and is_myself.
enum CoreFunctions {
    static let specs: [FunctionSpec] = [
        // xlog: `xlog_level` (or `$xlog_level`) filters it; with no level, `xlog_print_level` (L_ERR).
        FunctionSpec("xlog", args: [.logLevel, .string], min: 1, leadingOptional: true,
                     binder: logBinder(defaultLevel: nil)),
        // Core `log([level,] text)`: L_DBG unless a level is given; `log_level` filters it.
        FunctionSpec("log", args: [.logLevel, .string], min: 1, leadingOptional: true,
                     binder: logBinder(defaultLevel: .debug)),
        flagSpec("setflag") { ctx, bit in ctx.message.flags |= bit; return 1 },
        flagSpec("resetflag") { ctx, bit in ctx.message.flags &= ~bit; return 1 },
        flagSpec("isflagset") { ctx, bit in ctx.message.flags & bit != 0 ? 1 : -1 },
        // Not an OpenSIPS name: kept as an alias of isflagset for scripts written for earlier Tandem.
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

    /// `defaultLevel` nil: xlog (its level and filter come from the context).
    private static func logBinder(defaultLevel: ScriptLogLevel?) -> Binder {
        { _, _, args in
            let fmt = args.value(args.count - 1)
            var fixedLevel = defaultLevel
            var dyn: ValueFn?
            if args.count == 2 {
                switch args[0] {
                case .level(let l): fixedLevel = l
                default: dyn = args.value(0)
                }
            }
            let level = fixedLevel
            let dynamicLevel = dyn
            let isXlog = defaultLevel == nil
            return { ctx in
                var l = level ?? ctx.xlogPrintLevel
                if let dynamicLevel {
                    let v = dynamicLevel(&ctx)
                    l = v.intValue.flatMap { ScriptLogLevel(rawValue: $0) }
                        ?? ScriptLogLevel(name: v.stringValue) ?? defaultLevel ?? ctx.xlogPrintLevel
                }
                guard l <= (isXlog ? ctx.xlogLevel : ctx.logLevel) else { return 1 }
                let text = fmt(&ctx).stringValue
                ctx.logger.log(l, text, context: ctx.logContext())
                return 1
            }
        }
    }

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
