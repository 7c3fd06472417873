/// The expression side of transparent suspension (``Compiler`` `+Resumable`): the suspending call
/// itself, and the conditions and values on a path to it, which push and pop their ``ResumeMark``s.
extension Compiler {
    /// The call itself: returns its code, or nil after recording the suspension in
    /// `ctx.pendingAsync`. Resuming, it returns the delivered code without calling again. Where the
    /// host does not allow suspension it runs synchronously, as a host-run function always did.
    mutating func transparentCall(_ c: FunctionCall) -> @Sendable (inout ExecutionContext) -> Int? {
        guard let id = registry.id(named: c.name) else { return { _ in -1 } }
        let args = externalArgs(c)
        let outputs = outputVariables(c)
        let name = c.name
        return { ctx in
            if ctx.resuming {
                ctx.resuming = false
                return ctx.resumeValue
            }
            var values: [ScriptValue] = []
            values.reserveCapacity(args.count)
            for a in args { values.append(a(&ctx)) }
            guard ctx.allowsSuspension else {
                let proxy = ctx.proxy
                return proxy.invoke(ExternalCall(function: id, name: name, args: values, outputs: outputs), context: &ctx)
            }
            // resumeRoute and the continuation are filled in by Script.run when the route has unwound.
            ctx.pendingAsync = AsyncRequest(function: id, name: name, args: values, outputs: outputs,
                                            resumeRoute: ctx.route ?? RouteID(rawValue: 0, kind: .request),
                                            timeoutMilliseconds: nil,
                                            continuation: ScriptContinuation())
            return nil
        }
    }

    /// A condition that may suspend: `.stop(.suspend)` when it did.
    mutating func resumableCond(_ e: Expr) -> CondFn {
        guard exprSuspends(e) else { return compileCond(e) }
        switch e.kind {
        case .call(let c):
            let call = transparentCall(c)
            return { ctx in
                guard let r = call(&ctx) else { return .stop(.suspend) }
                ctx.rc = r
                return r > 0 ? .yes : (r < 0 ? .no : .stop(.exit))
            }
        case .routeCall(let name, let args):
            let run = resumableRouteRunner(name, args)
            return { ctx in
                let f = run(&ctx)
                if f != .next { return .stop(f) }
                return ctx.rc > 0 ? .yes : .no
            }
        case .unary(.not, let a):
            let c = resumableCond(a)
            return { ctx in
                switch c(&ctx) {
                case .yes: return .no
                case .no: return .yes
                case .stop(let f): return .stop(f)
                }
            }
        case .binary(let op, let a, let b) where op == .and || op == .or:
            let x = resumableCond(a), y = resumableCond(b)
            let and = op == .and
            @Sendable func right(_ ctx: inout ExecutionContext) -> Cond {
                let r = y(&ctx)
                if case .stop(.suspend) = r { ctx.resumeMarks.append(.at(1)) }
                return r
            }
            return { ctx in
                if ctx.resuming {
                    guard case .at(let side)? = ctx.resumeMarks.popLast() else { return .stop(ctx.lostTrail()) }
                    if side == 1 { return right(&ctx) }
                }
                let l = x(&ctx)
                switch l {
                case .yes where and, .no where !and: return right(&ctx)
                case .stop(.suspend): ctx.resumeMarks.append(.at(0))
                default: break
                }
                return l
            }
        case .binary(let op, let a, let b)
            where [.equal, .notEqual, .less, .greater, .lessEqual, .greaterEqual].contains(op):
            let pair = resumablePair(a, b)
            if case .null = b.kind {
                let wantNull = op == .equal
                return { ctx in
                    guard let (l, _) = pair(&ctx) else { return .stop(.suspend) }
                    return l.isNull == wantNull ? .yes : .no
                }
            }
            return { ctx in
                guard let (l, r) = pair(&ctx) else { return .stop(.suspend) }
                return Operators.compare(op, l, r) ? .yes : .no
            }
        default:
            let v = resumableValue(e)
            return { ctx in
                let x = v(&ctx)
                if ctx.pendingAsync != nil { return .stop(.suspend) }
                return x.isTruthy ? .yes : .no
            }
        }
    }

    /// A value that may suspend: when it did, `ctx.pendingAsync` is set and the value is NULL.
    mutating func resumableValue(_ e: Expr) -> ValueFn {
        guard exprSuspends(e) else { return compileValue(e) }
        switch e.kind {
        case .call(let c):
            let call = transparentCall(c)
            return { ctx in
                guard let r = call(&ctx) else { return .null }
                ctx.rc = r
                return .int(r)
            }
        case .routeCall(let name, let args):
            let run = resumableRouteRunner(name, args)
            return { ctx in
                let flow = run(&ctx)
                if flow != .next && ctx.pendingAsync == nil { ctx.stoppedFlow = flow }
                return .int(ctx.rc)
            }
        case .binary(let op, let a, let b) where op == .add:
            let pair = resumablePair(a, b)
            return { ctx in
                guard let (l, r) = pair(&ctx) else { return .null }
                return Operators.add(l, r)
            }
        case .binary(let op, let a, let b)
            where [.subtract, .multiply, .divide, .modulo, .bitAnd, .bitOr, .bitXor, .shiftLeft, .shiftRight].contains(op):
            let pair = resumablePair(a, b)
            return { ctx in
                guard let (l, r) = pair(&ctx) else { return .null }
                return Operators.arithmetic(op, l, r)
            }
        case .unary(.negate, let a), .unary(.bitNot, let a):
            let x = resumableValue(a)
            let negate: Bool
            if case .unary(.negate, _) = e.kind { negate = true } else { negate = false }
            return { ctx in
                let v = x(&ctx)
                if ctx.pendingAsync != nil { return .null }
                let n = v.intValue ?? 0
                return .int(negate ? 0 &- n : ~n)
            }
        default:
            // `!`, `&&`, `||` and comparisons: their truth as 1 or 0.
            let c = resumableCond(e)
            return { ctx in
                if case .yes = c(&ctx) { return .int(1) }
                return .int(0)
            }
        }
    }

    /// Both operands of a binary operator, left first; nil when one suspended. When the right one did,
    /// the left value is kept in the trail, so resuming evaluates only the right one.
    private mutating func resumablePair(_ a: Expr, _ b: Expr)
        -> @Sendable (inout ExecutionContext) -> (ScriptValue, ScriptValue)? {
        let x = resumableValue(a), y = resumableValue(b)
        @Sendable func right(_ l: ScriptValue, _ ctx: inout ExecutionContext) -> (ScriptValue, ScriptValue)? {
            let r = y(&ctx)
            if ctx.pendingAsync != nil {
                ctx.resumeMarks.append(.value(l))
                return nil
            }
            return (l, r)
        }
        return { ctx in
            if ctx.resuming {
                switch ctx.resumeMarks.popLast() {
                case .value(let l)?: return right(l, &ctx)
                case .at(0)?: break
                default:
                    _ = ctx.lostTrail()
                    return nil
                }
            }
            let l = x(&ctx)
            if ctx.pendingAsync != nil {
                ctx.resumeMarks.append(.at(0))
                return nil
            }
            return right(l, &ctx)
        }
    }
}
