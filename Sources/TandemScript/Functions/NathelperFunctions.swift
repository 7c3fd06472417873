/// The basics of OpenSIPS 3.6's `nathelper` module: `nat_uac_test(flags)`, `fix_nated_contact([uri_params])`,
/// `fix_nated_register()`, `add_rcv_param([flag])`, routed to `ScriptProxy`. The compiler adds the
/// `received_avp` handling (nathelper's AVP written by `fix_nated_register`, the registrar's read by
/// `save`). `fix_nated_sdp` and NAT pinging are not provided.
enum NathelperFunctions {
    private static let requestRoutes = RouteKindSet([.request, .failure, .branch])
    private static let modules = ["nathelper"]

    static let specs: [FunctionSpec] = [
        FunctionSpec("nat_uac_test", modules: modules, args: [.any], routes: RouteKindSet.message,
                     binder: { _, _, args in
            let flags = args.value(0)
            return { ctx in ctx.proxy.natUACTest(flags: flags(&ctx).intValue ?? 0) }
        }),
        FunctionSpec("fix_nated_contact", modules: modules, args: [.string], min: 0,
                     routes: RouteKindSet([.request, .failure, .branch, .onReply]),
                     binder: { _, _, args in
            let parameters = args.value(0)
            let count = args.count
            return { ctx in
                let p = count > 0 ? parameters(&ctx) : .null
                return ctx.proxy.fixNatedContact(uriParameters: p.isNull ? nil : p.stringValue)
            }
        }),
        FunctionSpec("fix_nated_register", modules: modules, routes: RouteKindSet([.request]), binder: { _, _, _ in
            { ctx in ctx.proxy.fixNatedRegister() }
        }),
        FunctionSpec("add_rcv_param", modules: modules, args: [.any], min: 0, routes: RouteKindSet([.request]),
                     binder: { _, _, args in
            let flag = args.value(0)
            let count = args.count
            return { ctx in ctx.proxy.addReceivedParameter(inURI: count > 0 && (flag(&ctx).intValue ?? 0) != 0) }
        }),
    ]
}
