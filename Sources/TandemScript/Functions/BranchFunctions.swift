/// Branch flags (`setbflag`, `resetbflag`, `isbflagset`), stateless `forward()` and serial forking
/// (`serialize_branches`, `next_branches`), routed to `ScriptProxy`'s branch set.
///
/// Branch index 0 is the Request-URI branch, 1… the `append_branch`/`lookup` branches in order (as
/// the OpenSIPS 3.6 core functions say); in a branch route branch 0 is the branch being sent, in a
/// failure route the branch that failed.
enum BranchFunctions {
    private static let branchRoutes = RouteKindSet([.request, .failure, .branch, .onReply])
    private static let requestFailure = RouteKindSet([.request, .failure])

    static let specs: [FunctionSpec] = [
        branchFlagSpec("setbflag") { p, i, bit in
            guard let f = p.branchFlags(index: i) else { return -1 }
            return p.setBranchFlags(index: i, f | bit) ? 1 : -1
        },
        branchFlagSpec("resetbflag") { p, i, bit in
            guard let f = p.branchFlags(index: i) else { return -1 }
            return p.setBranchFlags(index: i, f & ~bit) ? 1 : -1
        },
        branchFlagSpec("isbflagset") { p, i, bit in
            guard let f = p.branchFlags(index: i) else { return -1 }
            return f & bit != 0 ? 1 : -1
        },
        FunctionSpec("forward", args: [.string], min: 0, routes: requestFailure, binder: { _, _, args in
            let dest = args.value(0)
            let count = args.count
            return { ctx in
                let d = count > 0 ? dest(&ctx) : .null
                return ctx.proxy.forward(destination: d.isNull || d.stringValue.isEmpty ? nil : d.stringValue)
            }
        }),
        FunctionSpec("serialize_branches", args: [.int, .int], min: 1, routes: requestFailure, binder: { _, _, args in
            let clear = args.value(0), keep = args.value(1)
            let count = args.count
            return { ctx in
                let c = (clear(&ctx).intValue ?? 0) != 0
                let k = count > 1 ? (keep(&ctx).intValue ?? 0) != 0 : false
                return ctx.proxy.serializeBranches(clear: c, keepOrder: k)
            }
        }),
        FunctionSpec("next_branches", routes: requestFailure, binder: { _, _, _ in
            { ctx in ctx.proxy.nextBranches() }
        }),
    ]

    /// `NAME(flag[, branch_idx])`: the flag as `setflag` takes it (number or name), the branch 0 by default.
    private static func branchFlagSpec(_ name: String,
                                       _ body: @escaping @Sendable (any ScriptProxy, Int, UInt64) -> Int) -> FunctionSpec {
        FunctionSpec(name, args: [.flag, .int], min: 1, routes: branchRoutes, binder: { _, _, args in
            let index = args.value(1)
            let count = args.count
            let fixedBit: UInt64?
            if case .flag(let n) = args[0] { fixedBit = 1 << UInt64(n) } else { fixedBit = nil }
            let dyn = args.value(0)
            return { ctx in
                let bit: UInt64
                if let fixedBit { bit = fixedBit } else {
                    guard let n = dyn(&ctx).intValue, n >= 0, n < 64 else { return -1 }
                    bit = 1 << UInt64(n)
                }
                var i = 0
                if count > 1 {
                    guard let v = index(&ctx).intValue, v >= 0 else { return -1 }
                    i = v
                }
                return body(ctx.proxy, i, bit)
            }
        })
    }
}
