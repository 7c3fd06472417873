/// Transparent mid-route suspension: a plain call of a function whose spec `suspendsTransparently`
/// (`www_authorize`, `proxy_authorize`) stops the route when the host allows it
/// (`ExecutionContext.allowsSuspension`) and continues it later at the call, with the call's return
/// code as its value.
///
/// Only the frames on a path to such a call are compiled this way (the statements, conditions and
/// expressions that contain one, and the routes that reach one through `route(x)`); everything else is
/// compiled as before, so a script without such calls runs exactly the same closures. On the way out a
/// frame pushes a ``ResumeMark`` (which statement, which branch, which loop iteration, the called route's
/// parameters, the value of a left operand already computed); on resume each frame pops its mark and goes
/// straight to the recorded child, evaluating nothing it had already done, until the call itself returns
/// the delivered `$rc`. Then the route runs on normally (and may suspend again).
extension Compiler {
    // MARK: analysis

    /// Whether `c` is a plain call of a transparently suspending function with a valid argument count.
    func suspendsTransparently(_ c: FunctionCall) -> Bool {
        guard let spec = registry.spec(named: c.name), spec.suspendsTransparently(in: config) else { return false }
        return c.args.count >= spec.minArgs && c.args.count <= spec.maxArgs
    }

    /// Whether evaluating `e` may suspend transparently along a path the resume trail covers: a call,
    /// `route(x)` of a suspending route, `!`/`-`/`~`, `&&`/`||`, arithmetic and comparisons. A call in
    /// any other place (a function argument, a regex match…) runs synchronously.
    func exprSuspends(_ e: Expr) -> Bool {
        switch e.kind {
        case .call(let c): return suspendsTransparently(c)
        case .routeCall(let name, _): return suspendingRoutes.contains(name)
        case .unary(_, let a): return exprSuspends(a)
        case .binary(let op, let a, let b):
            switch op {
            case .match, .noMatch: return false
            case .equal, .notEqual:
                switch (a.kind, b.kind) {
                case (.myself, _), (_, .myself), (.address, _), (_, .address), (.hostName, _), (_, .hostName):
                    return false
                default: return exprSuspends(a) || exprSuspends(b)
                }
            default: return exprSuspends(a) || exprSuspends(b)
            }
        default: return false
        }
    }

    /// Whether running `s` may suspend transparently.
    func statementSuspends(_ s: Statement) -> Bool {
        switch s.kind {
        case .call(let c): return suspendsTransparently(c)
        case .routeCall(let name, _): return suspendingRoutes.contains(name)
        case .assign(_, _, let value): return exprSuspends(value)
        case .ifElse(let c, let t, let e):
            return exprSuspends(c) || t.contains(where: statementSuspends) || (e?.contains(where: statementSuspends) ?? false)
        case .whileLoop(let c, let b): return exprSuspends(c) || b.contains(where: statementSuspends)
        case .forEach(_, _, let b): return b.contains(where: statementSuspends)
        case .switchBlock(let subject, let cases):
            return exprSuspends(subject) || cases.contains { $0.body.contains(where: statementSuspends) }
        case .returnStatement(let value): return value.map(exprSuspends) ?? false
        case .block(let b): return b.contains(where: statementSuspends)
        default: return false
        }
    }

    /// Finds the request routes that may suspend transparently: their own calls, then (to a fixed
    /// point) the routes that call them with `route(x)`.
    mutating func findSuspendingRoutes(_ blocks: [RouteBlock]) {
        var changed = true
        while changed {
            changed = false
            for r in blocks where r.kind == .request {
                let name = r.name ?? ""
                if !suspendingRoutes.contains(name) && r.body.contains(where: statementSuspends) {
                    suspendingRoutes.insert(name)
                    changed = true
                }
            }
        }
    }

    // MARK: statements

    /// A block holding a statement that may suspend: the same chain as ``sequence(_:)`` when running,
    /// plus the index of the statement that suspended; resuming, it starts at that statement.
    mutating func compileResumableBlock(_ body: [Statement]) -> StmtFn {
        var boxes: [StmtBox] = []
        boxes.reserveCapacity(body.count)
        for st in body { boxes.append(StmtBox(run: compileStatement(st))) }
        let running = Compiler.markedSequence(boxes[...])
        let all = boxes
        return { ctx in
            guard ctx.resuming else { return running(&ctx) }
            guard case .at(var i)? = ctx.resumeMarks.popLast(), i >= 0, i < all.count else { return ctx.lostTrail() }
            while i < all.count {
                let f = all[i].run(&ctx)
                if f != .next {
                    if f == .suspend { ctx.resumeMarks.append(.at(i)) }
                    return f
                }
                i += 1
            }
            return .next
        }
    }

    /// ``sequence(_:)`` whose pairs also record, on the way out of a suspension, the index of the
    /// statement that suspended (only on that path: a statement going on to the next costs the same).
    static func markedSequence(_ fns: ArraySlice<StmtBox>) -> StmtFn {
        let first = fns.startIndex
        switch fns.count {
        case 0: return { _ in .next }
        case 1:
            let a = fns[first].run
            return { ctx in
                let f = a(&ctx)
                if f == .suspend { ctx.resumeMarks.append(.at(first)) }
                return f
            }
        case 2:
            let a = fns[first].run, b = fns[first + 1].run
            return { ctx in
                let f = a(&ctx)
                if f == .next {
                    let g = b(&ctx)
                    if g == .suspend { ctx.resumeMarks.append(.at(first + 1)) }
                    return g
                }
                if f == .suspend { ctx.resumeMarks.append(.at(first)) }
                return f
            }
        default:
            let mid = first + fns.count / 2
            let a = markedSequence(fns[..<mid]), b = markedSequence(fns[mid...])
            return { ctx in
                let f = a(&ctx)
                return f == .next ? b(&ctx) : f
            }
        }
    }

    /// A statement that may suspend (``statementSuspends(_:)``).
    mutating func compileResumableStatement(_ s: Statement) -> StmtFn {
        switch s.kind {
        case .call(let c):
            let call = transparentCall(c)
            return { ctx in
                guard let r = call(&ctx) else { return .suspend }
                ctx.rc = r
                return r == 0 ? .exit : .next
            }
        case .routeCall(let name, let args):
            return resumableRouteRunner(name, args)
        case .assign(let target, let op, let value):
            return compileAssign(target, op, value)
        case .ifElse(let c, let t, let e):
            return resumableIf(c, t, e)
        case .whileLoop(let c, let b):
            return resumableWhile(c, b, line: s.location.line)
        case .forEach(let variable, let values, let b):
            return resumableForEach(variable, values, b)
        case .switchBlock(let subject, let cases):
            return resumableSwitch(subject, cases)
        case .returnStatement(let v):
            let value = resumableValue(v ?? Expr(kind: .int(1), location: s.location))
            return { ctx in
                let r = value(&ctx).intValue ?? -1
                if ctx.pendingAsync != nil { return .suspend }
                ctx.rc = r
                return r == 0 ? .exit : .returned
            }
        case .block(let b):
            return compileBlock(b)
        default:
            return { _ in .next }
        }
    }

    /// The condition of an `if`/`while`: resumable when it may suspend.
    private mutating func loopCondition(_ c: Expr) -> CondFn {
        let cond = exprSuspends(c) ? resumableCond(c) : compileCond(c)
        return Compiler.containsRouteCall(c) ? Compiler.stoppingCondition(cond) : cond
    }

    private mutating func resumableIf(_ c: Expr, _ t: [Statement], _ e: [Statement]?) -> StmtFn {
        let cond = loopCondition(c)
        let then = compileBlock(t)
        let otherwise = compileBlock(e ?? [])
        let hasElse = e != nil
        return { ctx in
            var part = 0
            if ctx.resuming {
                guard case .at(let at)? = ctx.resumeMarks.popLast() else { return ctx.lostTrail() }
                part = at
            }
            if part == 0 {
                switch cond(&ctx) {
                case .yes: part = 1
                case .no:
                    guard hasElse else { return .next }
                    part = 2
                case .stop(let f):
                    if f == .suspend { ctx.resumeMarks.append(.at(0)) }
                    return f
                }
            }
            let f = part == 1 ? then(&ctx) : otherwise(&ctx)
            if f == .suspend { ctx.resumeMarks.append(.at(part)) }
            return f
        }
    }

    private mutating func resumableWhile(_ c: Expr, _ b: [Statement], line: Int) -> StmtFn {
        let cond = loopCondition(c)
        let body = compileBlock(b)
        return { ctx in
            var n = 0
            var inBody = false
            if ctx.resuming {
                guard case .loop(let iterations, let body)? = ctx.resumeMarks.popLast() else { return ctx.lostTrail() }
                n = iterations
                inBody = body
            }
            while true {
                if !inBody {
                    switch cond(&ctx) {
                    case .no: return .next
                    case .stop(let f):
                        if f == .suspend { ctx.resumeMarks.append(.loop(iterations: n, inBody: false)) }
                        return f
                    case .yes: break
                    }
                    n += 1
                    if n > ctx.maxWhileLoops {
                        ctx.log(.error, "while loop at line \(line) exceeded \(ctx.maxWhileLoops) iterations")
                        return .next
                    }
                }
                inBody = false
                let f = body(&ctx)
                if f == .breakOut { return .next }
                if f == .suspend { ctx.resumeMarks.append(.loop(iterations: n, inBody: true)) }
                if f != .next { return f }
            }
        }
    }

    private mutating func resumableForEach(_ variable: PVRef, _ values: PVRef, _ b: [Statement]) -> StmtFn {
        let body = compileBlock(b)
        let assign = forEachVariable(variable).assign
        let iterate = forEachValues(values)
        return { ctx in
            var list: [ScriptValue]
            var i = 0
            var assigned = false
            if ctx.resuming {
                guard case .forEach(let saved, let index)? = ctx.resumeMarks.popLast() else { return ctx.lostTrail() }
                list = saved
                i = index
                assigned = true  // the variable holds values[i] already ($var values come back with the route)
            } else {
                list = iterate(&ctx)
            }
            while i < list.count {
                if !assigned { assign(&ctx, list[i]) }
                assigned = false
                let f = body(&ctx)
                if f == .breakOut { return .next }
                if f == .suspend { ctx.resumeMarks.append(.forEach(list, index: i)) }
                if f != .next { return f }
                i += 1
            }
            return .next
        }
    }

    private mutating func resumableSwitch(_ subject: Expr, _ cases: [SwitchCase]) -> StmtFn {
        let subj = exprSuspends(subject) ? resumableValue(subject) : compileValue(subject)
        let (body, entries, fallback) = flattenSwitch(cases)
        return { ctx in
            var i = -1
            if ctx.resuming {
                guard case .at(let at)? = ctx.resumeMarks.popLast() else { return ctx.lostTrail() }
                i = at
            }
            if i < 0 {
                let v = subj(&ctx)
                if let stopped = ctx.stoppedFlow {
                    ctx.stoppedFlow = nil
                    if stopped == .suspend { ctx.resumeMarks.append(.at(-1)) }
                    return stopped
                }
                if ctx.pendingAsync != nil {
                    ctx.resumeMarks.append(.at(-1))
                    return .suspend
                }
                i = fallback
                for (label, idx) in entries where Operators.compare(.equal, v, label) {
                    i = idx
                    break
                }
            }
            while i < body.count {
                let f = body[i].run(&ctx)
                if f == .breakOut { return .next }
                if f == .suspend { ctx.resumeMarks.append(.at(i)) }
                if f != .next { return f }
                i += 1
            }
            return .next
        }
    }

    /// `route(x)` of a suspending route where the trail covers it: records the called route's
    /// parameters; resuming, it re-enters the route with them instead of evaluating its arguments.
    mutating func resumableRouteRunner(_ name: String, _ args: [Expr]) -> StmtFn {
        guard let raw = routeID(.request, name)?.rawValue else { return { _ in .next } }
        let argFns = args.map { compileValue($0) }
        let route = RouteID(rawValue: raw, kind: .request)
        let body = routeBody(raw)
        return { ctx in
            var params: [ScriptValue] = []
            if ctx.resuming {
                guard case .params(let saved)? = ctx.resumeMarks.popLast() else { return ctx.lostTrail() }
                params = saved
            } else {
                if ctx.callDepth >= Compiler.maxRouteDepth {
                    ctx.log(.error, "route(\(name)) nesting exceeds \(Compiler.maxRouteDepth); stopping")
                    return .exit
                }
                for a in argFns { params.append(a(&ctx)) }
            }
            swap(&ctx.params, &params)
            let caller = ctx.route
            ctx.route = route
            ctx.callDepth += 1
            let f = body(&ctx)
            ctx.callDepth -= 1
            ctx.route = caller
            if f == .suspend { ctx.resumeMarks.append(.params(ctx.params)) }
            swap(&ctx.params, &params)
            switch f {
            case .next, .breakOut: ctx.rc = 1; return .next
            case .returned: return .next
            default: return f
            }
        }
    }
}
