/// Stateless/stateful proxy functions (sl, tm, rr, signaling) routed to `ScriptProxy`.
enum ProxyFunctions {
    private static let reqFail = RouteKindSet([.request, .failure, .error])
    private static let armRoutes = RouteKindSet([.request, .failure, .onReply, .branch])

    static let specs: [FunctionSpec] = [
        replySpec("sl_send_reply", modules: ["sl"]) { p, c, r in p.slSendReply(code: c, reason: r) },
        replySpec("send_reply", modules: ["signaling"]) { p, c, r in p.slSendReply(code: c, reason: r) },
        replySpec("t_reply", modules: ["tm"]) { p, c, r in p.tReply(code: c, reason: r) },
        FunctionSpec("sl_reply_error", modules: ["sl"], routes: reqFail, binder: { _, _, _ in
            { ctx in ctx.proxy.slSendReply(code: 500, reason: "Server Internal Error") }
        }),
        FunctionSpec("t_relay", modules: ["tm"], args: [.any], min: 0, routes: RouteKindSet([.request, .failure]),
                     binder: { _, _, args in
            if args.isEmpty { return { ctx in ctx.proxy.tRelay(flags: 0, destination: nil) } }
            let a = args.value(0)
            return { ctx in
                switch a(&ctx) {
                case .int(let f): return ctx.proxy.tRelay(flags: f, destination: nil)
                case .string(let s):
                    if let f = Int(s) { return ctx.proxy.tRelay(flags: f, destination: nil) }
                    return ctx.proxy.tRelay(flags: 0, destination: s)
                case .null: return ctx.proxy.tRelay(flags: 0, destination: nil)
                }
            }
        }),
        FunctionSpec("t_newtran", modules: ["tm"], routes: RouteKindSet([.request]), binder: { _, _, _ in
            { ctx in ctx.proxy.tNewTran() }
        }),
        FunctionSpec("t_check_trans", modules: ["tm"], routes: RouteKindSet([.request, .onReply, .branch, .failure]),
                     binder: { _, _, _ in { ctx in ctx.proxy.tCheckTrans() } }),
        armSpec("t_on_failure", .failure) { p, r in p.tOnFailure(r) },
        armSpec("t_on_reply", .onReply) { p, r in p.tOnReply(r) },
        armSpec("t_on_branch", .branch) { p, r in p.tOnBranch(r) },
        FunctionSpec("record_route", modules: ["rr"], args: [.string], min: 0,
                     routes: RouteKindSet([.request, .failure, .branch]),
                     binder: { _, _, _ in { ctx in ctx.proxy.recordRoute() } }),
        FunctionSpec("loose_route", modules: ["rr"], routes: RouteKindSet([.request]), binder: { _, _, _ in
            { ctx in ctx.proxy.looseRoute() }
        }),
        FunctionSpec("t_was_cancelled", modules: ["tm"], routes: RouteKindSet([.failure, .onReply, .branch, .request]),
                     binder: { _, _, _ in { ctx in ctx.proxy.tWasCancelled() ? 1 : -1 } }),
        FunctionSpec("t_local_replied", modules: ["tm"], args: [.string],
                     routes: RouteKindSet([.failure, .onReply, .branch, .request]), binder: { _, _, args in
            if case .string(let s)? = args.constant(0) {
                guard let scope = LocalReplyScope(rawValue: s) else { return { _ in -1 } }
                return { ctx in ctx.proxy.tLocalReplied(scope) ? 1 : -1 }
            }
            let which = args.value(0)
            return { ctx in
                guard let scope = LocalReplyScope(rawValue: which(&ctx).stringValue) else { return -1 }
                return ctx.proxy.tLocalReplied(scope) ? 1 : -1
            }
        }),
        FunctionSpec("t_check_status", modules: ["tm"], args: [.string], routes: RouteKindSet([.failure, .onReply, .branch, .request]),
                     binder: { _, _, args in
            let pattern = args.value(0)
            let fixed: POSIXRegex? = {
                guard case .string(let s)? = args.constant(0) else { return nil }
                return try? POSIXRegex.compile("^(" + s + ")$").get()
            }()
            return { ctx in
                let code = ctx.message.get(.replyCode, name: nil, index: nil).stringValue
                if let fixed { return fixed.matches(code) ? 1 : -1 }
                guard let re = try? POSIXRegex.compile("^(" + pattern(&ctx).stringValue + ")$").get() else { return -1 }
                return re.matches(code) ? 1 : -1
            }
        }),
    ]

    private static func replySpec(_ name: String, modules: [String],
                                  _ call: @escaping @Sendable (any ScriptProxy, Int, String) -> Int) -> FunctionSpec {
        FunctionSpec(name, modules: modules, args: [.int, .string], routes: reqFail, binder: { _, _, args in
            let code = args.value(0), reason = args.value(1)
            return { ctx in
                let c = code(&ctx).intValue ?? 500
                let r = reason(&ctx).stringValue
                return call(ctx.proxy, c, r)
            }
        })
    }

    private static func armSpec(_ name: String, _ kind: RouteKind,
                                _ call: @escaping @Sendable (any ScriptProxy, RouteID) -> Void) -> FunctionSpec {
        FunctionSpec(name, modules: ["tm"], args: [.route(kind)], routes: armRoutes, binder: { _, _, args in
            guard let r = args.route(0) else {
                // Route "0" that the script does not define: tm's "no route", which disarms it.
                if kind == .failure || kind == .branch, let c = args.constant(0), c.stringValue == "0" {
                    return { ctx in ctx.proxy.tDisarm(kind); return 1 }
                }
                return { _ in -1 }
            }
            return { ctx in call(ctx.proxy, r); return 1 }
        })
    }
}
