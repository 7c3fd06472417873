/// Compiles a checked AST into closures. Pseudo-variable slots, function bindings, route
/// references, regexes and string segments are all resolved here, once.
struct Compiler {
    let ast: ScriptAST
    let config: ScriptConfig
    let registry: FunctionRegistry
    /// When set, every executed statement increments `ExecutionContext.statementCount` (benchmarks).
    var instrument = false

    private var routeIDs: [RouteKey: Int] = [:]
    private var routeNames: [(kind: RouteKind, name: String)] = []
    private var varSlots: [String: Int] = [:]
    private var varNames: [String] = []
    private var avpSlots: [String: Int] = [:]
    private var avpNames: [String] = []
    private var flagBits: [String: Int] = [:]
    private var nextNamedFlag = 32
    private let table = RouteTable()
    /// Host names compared with addresses, resolved by the host at load.
    let hostNames = HostNameTable()
    /// Request routes (by name) that may stop mid-way at a transparently suspending call, their own
    /// or one in a route they call (``suspendsTransparently``): their frames record a resume trail.
    var suspendingRoutes: Set<String> = []

    static let maxRouteDepth = 100

    init(ast: ScriptAST, config: ScriptConfig, registry: FunctionRegistry) {
        self.ast = ast
        self.config = config
        self.registry = registry
    }

    mutating func compile() -> Script {
        var blocks: [RouteBlock] = []
        for item in ast.items {
            guard case .route(let r) = item, r.kind != .event else { continue }
            let key = RouteKey(kind: r.kind, name: r.name ?? "")
            guard routeIDs[key] == nil else { continue }
            routeIDs[key] = routeNames.count
            routeNames.append((r.kind, key.name))
            blocks.append(r)
        }
        // A script without a main route (a startup_route-only script) gets an empty one.
        if routeIDs[RouteKey(kind: .request, name: "")] == nil {
            routeIDs[RouteKey(kind: .request, name: "")] = routeNames.count
            routeNames.append((.request, ""))
            blocks.append(RouteBlock(kind: .request, name: nil, interval: nil, body: [],
                                     location: SourceLocation(file: "", line: 0, column: 0)))
        }
        findSuspendingRoutes(blocks)
        var bodies: [StmtBox] = []
        var timers: [TimerRoute] = []
        for (i, r) in blocks.enumerated() {
            bodies.append(StmtBox(run: compileBlock(r.body)))
            if r.kind == .timer, let interval = r.interval {
                timers.append(TimerRoute(route: RouteID(rawValue: i, kind: .timer), name: r.name ?? "", interval: interval))
            }
        }
        table.bodies = bodies
        return Script(config: config, registry: registry, routeNames: routeNames, table: table, timerRoutes: timers,
                      varNames: varNames, avpNames: avpNames, flagBits: flagBits, hostNames: hostNames)
    }

    // MARK: slots

    mutating func slotForVar(_ name: String) -> Int { varSlot(name) }
    mutating func slotForAVP(_ name: String) -> Int { avpSlot(name) }
    mutating func bindCallForExpr(_ c: FunctionCall) -> FunctionImpl { bindCall(c) }
    mutating func routeRunnerForExpr(_ name: String, _ args: [Expr]) -> StmtFn { routeRunner(name, args) }

    private mutating func varSlot(_ name: String) -> Int {
        if let s = varSlots[name] { return s }
        varSlots[name] = varNames.count
        varNames.append(name)
        return varNames.count - 1
    }

    private mutating func avpSlot(_ name: String) -> Int {
        if let s = avpSlots[name] { return s }
        avpSlots[name] = avpNames.count
        avpNames.append(name)
        return avpNames.count - 1
    }

    mutating func flagBit(_ name: String) -> Int {
        if let n = Int(name), n >= 0, n < 64 { return n }
        if let b = flagBits[name] { return b }
        let b = min(nextNamedFlag, 63)
        nextNamedFlag += 1
        flagBits[name] = b
        return b
    }

    func routeID(_ kind: RouteKind, _ name: String) -> RouteID? {
        routeIDs[RouteKey(kind: kind, name: name)].map { RouteID(rawValue: $0, kind: kind) }
    }

    // MARK: statements

    mutating func compileBlock(_ body: [Statement]) -> StmtFn {
        if body.contains(where: statementSuspends) { return compileResumableBlock(body) }
        var boxes: [StmtBox] = []
        boxes.reserveCapacity(body.count)
        for st in body { boxes.append(StmtBox(run: compileStatement(st))) }
        return Compiler.sequence(boxes[...])
    }

    /// Chains statements as a balanced tree of closures that capture each other directly:
    /// calling a captured closure avoids the retain and reabstraction that iterating an
    /// array of closures costs on every statement.
    /// (Closures are boxed in a struct so arrays keep them at their natural abstraction.)
    static func sequence(_ fns: ArraySlice<StmtBox>) -> StmtFn {
        switch fns.count {
        case 0: return { _ in .next }
        case 1: return fns[fns.startIndex].run
        case 2:
            let a = fns[fns.startIndex].run, b = fns[fns.startIndex + 1].run
            return { ctx in
                let f = a(&ctx)
                return f == .next ? b(&ctx) : f
            }
        default:
            let mid = fns.startIndex + fns.count / 2
            let a = sequence(fns[..<mid]), b = sequence(fns[mid...])
            return { ctx in
                let f = a(&ctx)
                return f == .next ? b(&ctx) : f
            }
        }
    }

    mutating func compileStatement(_ s: Statement) -> StmtFn {
        let compiled = compileStatementBody(s)
        var fn = compiled
        if Compiler.evaluatesRouteCall(s) {
            // A route(x) inside an expression that ended with exit, drop or async() stops the script here.
            let body = compiled
            fn = { ctx in
                let flow = body(&ctx)
                guard let stopped = ctx.stoppedFlow else { return flow }
                ctx.stoppedFlow = nil
                return stopped
            }
        }
        guard instrument else { return fn }
        let counted = fn
        return { ctx in
            ctx.statementCount &+= 1
            return counted(&ctx)
        }
    }

    /// Whether a statement evaluates `route(x)` inside an expression of its own (not in nested blocks).
    static func evaluatesRouteCall(_ s: Statement) -> Bool {
        switch s.kind {
        case .assign(_, _, let value): return containsRouteCall(value)
        case .returnStatement(let value): return value.map(containsRouteCall) ?? false
        case .call(let call): return call.args.contains(where: containsRouteCall)
        default: return false
        }
    }

    /// Whether `route(x)` appears in `e` where its value (not its condition) is used.
    static func containsRouteCall(_ e: Expr) -> Bool {
        switch e.kind {
        case .routeCall: return true
        case .binary(_, let a, let b): return containsRouteCall(a) || containsRouteCall(b)
        case .unary(_, let a): return containsRouteCall(a)
        case .call(let call): return call.args.contains(where: containsRouteCall)
        default: return false
        }
    }

    /// A condition that stops with the flow of a `route(x)` evaluated for its value inside it.
    static func stoppingCondition(_ cond: @escaping CondFn) -> CondFn {
        { ctx in
            let result = cond(&ctx)
            guard let stopped = ctx.stoppedFlow else { return result }
            ctx.stoppedFlow = nil
            return .stop(stopped)
        }
    }

    private mutating func compileStatementBody(_ s: Statement) -> StmtFn {
        if statementSuspends(s) { return compileResumableStatement(s) }
        switch s.kind {
        case .call(let c):
            let impl = bindCall(c)
            return { ctx in
                let r = impl(&ctx)
                ctx.rc = r
                return r == 0 ? .exit : .next
            }
        case .routeCall(let name, let args):
            return compileRouteCall(name, args)
        case .assign(let target, let op, let value):
            return compileAssign(target, op, value)
        case .ifElse(let c, let t, let e):
            let cond = Compiler.containsRouteCall(c) ? Compiler.stoppingCondition(compileCond(c)) : compileCond(c)
            let then = compileBlock(t)
            guard let e else {
                return { ctx in
                    switch cond(&ctx) {
                    case .yes: return then(&ctx)
                    case .no: return .next
                    case .stop(let f): return f
                    }
                }
            }
            let otherwise = compileBlock(e)
            return { ctx in
                switch cond(&ctx) {
                case .yes: return then(&ctx)
                case .no: return otherwise(&ctx)
                case .stop(let f): return f
                }
            }
        case .whileLoop(let c, let b):
            let cond = Compiler.containsRouteCall(c) ? Compiler.stoppingCondition(compileCond(c)) : compileCond(c)
            let body = compileBlock(b)
            let line = s.location.line
            return { ctx in
                var n = 0
                while true {
                    switch cond(&ctx) {
                    case .no: return .next
                    case .stop(let f): return f
                    case .yes: break
                    }
                    n += 1
                    if n > ctx.maxWhileLoops {
                        ctx.log(.error, "while loop at line \(line) exceeded \(ctx.maxWhileLoops) iterations")
                        return .next
                    }
                    let f = body(&ctx)
                    if f == .breakOut { return .next }
                    if f != .next { return f }
                }
            }
        case .forEach(let variable, let values, let b):
            return compileForEach(variable, values, b)
        case .switchBlock(let subject, let cases):
            return compileSwitch(subject, cases)
        case .breakStatement:
            return { _ in .breakOut }
        case .exit:
            return { _ in .exit }
        case .drop:
            return { _ in .drop }
        case .returnStatement(let v):
            guard let v else {
                return { ctx in ctx.rc = 1; return .returned }
            }
            let value = compileValue(v)
            return { ctx in
                let r = value(&ctx).intValue ?? -1
                ctx.rc = r
                return r == 0 ? .exit : .returned
            }
        case .async(let call, let resume, _, let timeout):
            guard let id = registry.id(named: call.name), let resumeID = routeID(.request, resume) else {
                return { _ in .exit }
            }
            let args = externalArgs(call)
            let outputs = outputVariables(call)
            let timeoutFn = timeout.map { compileValue($0) }
            let name = call.name
            return { ctx in
                var values: [ScriptValue] = []
                values.reserveCapacity(args.count)
                for a in args { values.append(a(&ctx)) }
                let t = timeoutFn.flatMap { AsyncRequest.milliseconds($0(&ctx)) }
                ctx.pendingAsync = AsyncRequest(function: id, name: name, args: values, outputs: outputs,
                                                resumeRoute: resumeID, timeoutMilliseconds: t)
                return .suspend
            }
        case .launch(let call, let report, _, let param):
            guard let id = registry.id(named: call.name) else { return { _ in .next } }
            let reportID = report.flatMap { routeID(.request, $0) }
            let args = externalArgs(call)
            let outputs = outputVariables(call)
            let paramFn = param.map { compileValue($0) }
            let name = call.name
            return { ctx in
                var values: [ScriptValue] = []
                for a in args { values.append(a(&ctx)) }
                let p = paramFn.map { $0(&ctx) } ?? .null
                ctx.launches.append(LaunchRequest(function: id, name: name, args: values, outputs: outputs,
                                                  reportRoute: reportID, param: p))
                ctx.rc = 1
                return .next
            }
        case .block(let b):
            return compileBlock(b)
        }
    }

    /// `for ($var(x) in $(avp(y)[*]))`: AVP values newest first, header occurrences in order;
    /// any other pseudo-variable gives its one value (none when NULL).
    private mutating func compileForEach(_ variable: PVRef, _ values: PVRef, _ b: [Statement]) -> StmtFn {
        let body = compileBlock(b)
        let assign = lvalue(variable.spec, .replaceAll).assign
        let iterate = forEachValues(values)
        return { ctx in
            for v in iterate(&ctx) {
                assign(&ctx, v)
                let f = body(&ctx)
                if f == .breakOut { return .next }
                if f != .next { return f }
            }
            return .next
        }
    }

    /// The loop variable of a `for each` as a writable location.
    mutating func forEachVariable(_ variable: PVRef) -> LValue { lvalue(variable.spec, .replaceAll) }

    /// The values a `for each` iterates, read once when the loop starts.
    mutating func forEachValues(_ values: PVRef) -> @Sendable (inout ExecutionContext) -> [ScriptValue] {
        let iterate: @Sendable (inout ExecutionContext) -> [ScriptValue]
        switch PseudoVariables.classify(values.spec) {
        case .success(.avp(let n, .all)) where values.spec.transformations.isEmpty:
            let s = avpSlot(n)
            iterate = { ctx in ctx.avps.values(slot: s) }
        case .success(.message(let pv, let name, .all)) where values.spec.transformations.isEmpty:
            iterate = { ctx in
                var out: [ScriptValue] = []
                while out.count < 1000 {
                    let v = ctx.message.get(pv, name: name, index: out.count)
                    if v.isNull { break }
                    out.append(v)
                }
                return out
            }
        default:
            let read = compilePVRead(values.spec)
            iterate = { ctx in
                let v = read(&ctx)
                return v.isNull ? [] : [v]
            }
        }
        return iterate
    }

    /// A switch's case bodies as one statement list (cases fall through as in OpenSIPS), each label's
    /// entry index into it, and the `default` entry (the end when there is none).
    mutating func flattenSwitch(_ cases: [SwitchCase]) -> (body: [StmtBox], entries: [(ScriptValue, Int)], fallback: Int) {
        var flat: [StmtBox] = []
        var labels: [(ScriptValue, Int)] = []
        var defaultEntry: Int?
        for c in cases {
            if let l = c.label {
                switch l.kind {
                case .int(let v): labels.append((.int(v), flat.count))
                case .string(let s): labels.append((.string(s), flat.count))
                default: break
                }
            } else if defaultEntry == nil {
                defaultEntry = flat.count
            }
            for st in c.body { flat.append(StmtBox(run: compileStatement(st))) }
        }
        return (flat, labels, defaultEntry ?? flat.count)
    }

    private mutating func compileSwitch(_ subject: Expr, _ cases: [SwitchCase]) -> StmtFn {
        let subj = compileValue(subject)
        let (body, entries, fallback) = flattenSwitch(cases)
        return { ctx in
            let v = subj(&ctx)
            if let stopped = ctx.stoppedFlow {
                ctx.stoppedFlow = nil
                return stopped
            }
            var i = fallback
            for (label, idx) in entries where Operators.compare(.equal, v, label) {
                i = idx
                break
            }
            while i < body.count {
                let f = body[i].run(&ctx)
                if f == .breakOut { return .next }
                if f != .next { return f }
                i += 1
            }
            return .next
        }
    }

    /// Runs a named route with parameters; returns `.next` (with `$rc` set) or a stopping flow.
    private mutating func routeRunner(_ name: String, _ args: [Expr]) -> StmtFn {
        guard let id = routeIDs[RouteKey(kind: .request, name: name)] else { return { _ in .next } }
        if suspendingRoutes.contains(name) {
            // A route that may suspend, called where its caller cannot record a resume trail (inside an
            // expression the trail does not cover): its transparently suspending calls run synchronously.
            let run = plainRouteRunner(id, name, args)
            return { ctx in
                let allowed = ctx.allowsSuspension
                ctx.allowsSuspension = false
                let f = run(&ctx)
                ctx.allowsSuspension = allowed
                return f
            }
        }
        return plainRouteRunner(id, name, args)
    }

    private mutating func plainRouteRunner(_ id: Int, _ name: String, _ args: [Expr]) -> StmtFn {
        let argFns = args.map { compileValue($0) }
        let table = self.table
        return { ctx in
            if ctx.callDepth >= Compiler.maxRouteDepth {
                ctx.log(.error, "route(\(name)) nesting exceeds \(Compiler.maxRouteDepth); stopping")
                return .exit
            }
            var params: [ScriptValue] = []
            if !argFns.isEmpty {
                params.reserveCapacity(argFns.count)
                for a in argFns { params.append(a(&ctx)) }
            }
            swap(&ctx.params, &params)
            let caller = ctx.route
            ctx.route = RouteID(rawValue: id, kind: .request)
            ctx.callDepth += 1
            let f = table.bodies[id].run(&ctx)
            ctx.callDepth -= 1
            ctx.route = caller
            swap(&ctx.params, &params)
            switch f {
            case .next, .breakOut: ctx.rc = 1; return .next
            case .returned: return .next
            default: return f
            }
        }
    }

    /// Runs the body of route `id` (filled in once every route is compiled).
    func routeBody(_ id: Int) -> StmtFn {
        let table = self.table
        return { ctx in table.bodies[id].run(&ctx) }
    }

    private mutating func compileRouteCall(_ name: String, _ args: [Expr]) -> StmtFn {
        routeRunner(name, args)
    }

    // MARK: assignment

    /// `output`: as a function's output parameter (an `$avp` gets every value pushed, NULL included).
    private enum AssignMode { case push, replaceAll, replaceTop, output }

    private mutating func lvalue(_ spec: PVSpec, _ mode: AssignMode) -> LValue {
        guard case .success(let kind) = PseudoVariables.classify(spec) else {
            return LValue(assign: { _, _ in }, text: spec.text)
        }
        switch kind {
        case .variable(let n):
            let s = varSlot(n)
            return LValue(assign: { ctx, v in if s < ctx.vars.count { ctx.vars[s] = v } }, text: spec.text)
        case .avp(let n, let index):
            let s = avpSlot(n)
            if case .fixed(let i) = index {
                return LValue(assign: { ctx, v in ctx.avps.set(slot: s, index: i, v) }, text: spec.text)
            }
            if case .dynamic = index, let at = compileIndex(index) {
                return LValue(assign: { ctx, v in
                    let i = at(&ctx)
                    ctx.avps.set(slot: s, index: i, v)
                }, text: spec.text)
            }
            if case .all = index {
                // `$(avp(x)[*]) = v` replaces every value; `= NULL` deletes them all.
                return LValue(assign: { ctx, v in
                    ctx.avps.removeAll(slot: s)
                    if !v.isNull { ctx.avps.push(slot: s, v) }
                }, text: spec.text)
            }
            switch mode {
            case .output:
                return LValue(assign: { ctx, v in ctx.avps.push(slot: s, v) }, text: spec.text)
            case .push:
                return LValue(assign: { ctx, v in
                    if v.isNull { ctx.avps.removeNewest(slot: s) } else { ctx.avps.push(slot: s, v) }
                }, text: spec.text)
            case .replaceAll:
                return LValue(assign: { ctx, v in
                    ctx.avps.removeAll(slot: s)
                    if !v.isNull { ctx.avps.push(slot: s, v) }
                }, text: spec.text)
            case .replaceTop:
                return LValue(assign: { ctx, v in
                    if ctx.avps.value(slot: s).isNull { ctx.avps.push(slot: s, v) }
                    else { ctx.avps.set(slot: s, index: 0, v) }
                }, text: spec.text)
            }
        case .message(let pv, _, _):
            return LValue(assign: { ctx, v in _ = ctx.message.set(pv, value: v) }, text: spec.text)
        case .messageFlag(let name):
            let mask: UInt64 = 1 << UInt64(flagBit(name))
            return LValue(assign: { ctx, v in
                let on = (v.intValue ?? (v.stringValue == "true" ? 1 : 0)) != 0
                if on { ctx.message.flags |= mask } else { ctx.message.flags &= ~mask }
            }, text: spec.text)
        case .branchFlag(let name):
            let mask: UInt64 = 1 << UInt64(flagBit(name))
            return LValue(assign: { ctx, v in
                let on = (v.intValue ?? (v.stringValue == "true" ? 1 : 0)) != 0
                let flags = ctx.proxy.branchFlags(index: 0) ?? 0
                _ = ctx.proxy.setBranchFlags(index: 0, on ? flags | mask : flags & ~mask)
            }, text: spec.text)
        case .messageBranch(let field, let index):
            return messageBranchLValue(field, index, text: spec.text)
        case .logVerbosity(let xlog):
            // A level number or name (`L_DBG`); NULL goes back to the configured level.
            return LValue(assign: { ctx, v in
                let level: ScriptLogLevel? = v.isNull ? (xlog ? ctx.configuredXlogLevel : ctx.configuredLogLevel)
                    : v.intValue.map { ExecutionContext.level(for: $0) } ?? ScriptLogLevel(name: v.stringValue)
                guard let level else { return }
                if xlog { ctx.xlogLevel = level } else { ctx.logLevel = level }
            }, text: spec.text)
        case .sdp(let sel):
            // The body is rewritten as a whole (Content-Length follows); no match: nothing changes.
            let dynamic = sel.line?.dynamicIndex.map { compilePVRead($0) }
            return LValue(assign: { ctx, v in
                let i = dynamic.map { $0(&ctx).intValue ?? 0 }
                if let body = sel.write(body: ctx.message.get(.body, name: nil, index: nil), lineIndex: i, v) {
                    _ = ctx.message.replaceBody(body)
                }
            }, text: spec.text)
        case .transactionTimeout(let invite):
            // `= NULL` goes back to the modparam default.
            return LValue(assign: { ctx, v in
                ctx.proxy.setTransactionTimeout(invite: invite, seconds: v.isNull ? nil : v.intValue)
            }, text: spec.text)
        default:
            return LValue(assign: { _, _ in }, text: spec.text)
        }
    }

    mutating func compileAssign(_ target: PVRef, _ op: AssignOp, _ value: Expr) -> StmtFn {
        let suspends = exprSuspends(value)
        let v = suspends ? resumableValue(value) : compileValue(value)
        switch op {
        case .assign, .colonAssign:
            let lv = lvalue(target.spec, op == .assign ? .push : .replaceAll).assign
            if suspends {
                return { ctx in
                    let x = v(&ctx)
                    if ctx.pendingAsync != nil { return .suspend }
                    lv(&ctx, x)
                    return .next
                }
            }
            return { ctx in
                let x = v(&ctx)
                lv(&ctx, x)
                return .next
            }
        case .add, .subtract, .multiply, .divide, .modulo, .bitAnd, .bitOr, .bitXor:
            let read = compilePVRead(target.spec)
            let lv = lvalue(target.spec, .replaceTop).assign
            let bop: BinaryOp
            switch op {
            case .add: bop = .add
            case .subtract: bop = .subtract
            case .multiply: bop = .multiply
            case .divide: bop = .divide
            case .modulo: bop = .modulo
            case .bitAnd: bop = .bitAnd
            case .bitOr: bop = .bitOr
            default: bop = .bitXor
            }
            if suspends {
                return { ctx in
                    let cur = read(&ctx)
                    let x = v(&ctx)
                    if ctx.pendingAsync != nil { return .suspend }
                    lv(&ctx, Operators.arithmetic(bop, cur, x))
                    return .next
                }
            }
            return { ctx in
                let cur = read(&ctx)
                let x = v(&ctx)
                lv(&ctx, Operators.arithmetic(bop, cur, x))
                return .next
            }
        }
    }

    // MARK: functions

    private mutating func bindCall(_ c: FunctionCall) -> FunctionImpl {
        guard let id = registry.id(named: c.name) else { return { _ in -1 } }
        let spec = registry[id]
        guard c.args.count >= spec.minArgs && c.args.count <= spec.maxArgs else { return { _ in -1 } }
        if spec.isHostRun || (RegistrarFunctions.usrlocNames.contains(c.name) && usrlocUsesDatabase) {
            // Host-run functions called synchronously get the same arguments as under async():
            // query text with placeholders (its values after the declared arguments), output variables.
            let args = externalArgs(c)
            let outputs = outputVariables(c)
            let name = c.name
            return { ctx in
                var values: [ScriptValue] = []
                values.reserveCapacity(args.count)
                for a in args { values.append(a(&ctx)) }
                let proxy = ctx.proxy
                return proxy.invoke(ExternalCall(function: id, name: name, args: values, outputs: outputs), context: &ctx)
            }
        }
        var bound: [BoundArg] = []
        for (i, a) in c.args.enumerated() {
            bound.append(bindArg(a, spec.kind(ofArgument: i, count: c.args.count)))
        }
        if c.name == "mf_process_maxfwd_header" {
            let maxLimit = ScriptValue.int(config.modparam("maxfwd", "max_limit")?.intValue ?? 256)
            bound.append(.value({ _ in maxLimit }, constant: maxLimit))
        }
        if AuthFunctions.names.contains(c.name) { bound += authSettingsArguments() }
        if c.name == "reg_fetch_contacts", c.args.count == 3, case .string(let profile) = c.args[2].kind {
            for attr in UlcProfile.attributes {
                let slot = ScriptValue.int(avpSlot(UlcProfile.avpName(profile.trimmingSpaces(), attr)))
                bound.append(.value({ _ in slot }, constant: slot))
            }
        }
        guard let binder = spec.binder else { return { _ in -1 } }
        let impl = binder(id, c.name, bound)
        if c.name == "save", let received = registrarReceivedRead() {
            return { ctx in
                Self.takeReceived(received, &ctx)
                return impl(&ctx)
            }
        }
        if c.name == "fix_nated_register", let slot = nathelperReceivedSlot() {
            // nathelper's received_avp gets the address too, for a script (or a registrar
            // received_avp naming the same AVP) to read.
            return { ctx in
                let rc = impl(&ctx)
                if rc > 0, let received = ctx.proxy.registerReceived {
                    ctx.avps.removeAll(slot: slot)
                    ctx.avps.push(slot: slot, .string(received))
                }
                return rc
            }
        }
        return impl
    }

    /// The read of the registrar's `received_avp` (nil when the modparam is not set): its value, when
    /// set, becomes the `received` address `save` stores.
    private mutating func registrarReceivedRead() -> ValueFn? {
        guard let spec = config.modparam("registrar", "received_avp").map(Self.configText), spec.hasPrefix("$"),
              let parsed = PVSyntax.parse(String(spec.dropFirst())) else { return nil }
        return compilePVRead(parsed)
    }

    /// The AVP slot of nathelper's `received_avp`, nil when the modparam is not set.
    private mutating func nathelperReceivedSlot() -> Int? {
        guard let spec = config.modparam("nathelper", "received_avp").map(Self.configText), spec.hasPrefix("$"),
              let parsed = PVSyntax.parse(String(spec.dropFirst())),
              case .success(.avp(let name, _)) = PseudoVariables.classify(parsed) else { return nil }
        return avpSlot(name)
    }

    /// Sets the request's `received` for `save` from the registrar's `received_avp` when it holds a value.
    static func takeReceived(_ read: ValueFn, _ ctx: inout ExecutionContext) {
        let value = read(&ctx)
        guard !value.isNull else { return }
        let text = value.stringValue
        if !text.isEmpty { ctx.proxy.registerReceived = text }
    }

    /// The `auth` module's settings appended to its calls: the value of `password_spec` (default
    /// `$avp(password)`), `calculate_ha1`, `secret` (random per process when unset), `nonce_expire` (30 s).
    private mutating func authSettingsArguments() -> [BoundArg] {
        var password: ValueFn = { _ in .null }
        let spec = config.modparam("auth", "password_spec").map(Self.configText) ?? "$avp(password)"
        if spec.hasPrefix("$"), let parsed = PVSyntax.parse(String(spec.dropFirst())) {
            password = compilePVRead(parsed)
        }
        let calculate = ScriptValue.int(config.modparam("auth", "calculate_ha1")?.intValue ?? 0)
        let secret = ScriptValue.string(config.modparam("auth", "secret").map(Self.configText) ?? DigestAuth.processSecret)
        let expire = ScriptValue.int(config.modparam("auth", "nonce_expire")?.intValue ?? 30)
        return [.value(password, constant: nil), .value({ _ in calculate }, constant: calculate),
                .value({ _ in secret }, constant: secret), .value({ _ in expire }, constant: expire)]
    }

    /// A modparam value as written, without quotes.
    private static func configText(_ value: ConfigValue) -> String {
        switch value {
        case .int(let v): return String(v)
        case .string(let s), .word(let s): return s
        }
    }

    private func literalName(_ e: Expr) -> String? {
        switch e.kind {
        case .word(let s), .string(let s): return s
        case .int(let v): return String(v)
        default: return nil
        }
    }

    private mutating func bindArg(_ e: Expr, _ kind: ArgKind) -> BoundArg {
        switch kind {
        case .route(let rk):
            if let n = literalName(e), let r = routeID(rk, n) { return .route(r) }
        case .variable:
            if case .pv(let ref) = e.kind { return .variable(lvalue(ref.spec, .push)) }
        case .variableList:
            if case .string(let s) = e.kind {
                for part in s.split(separator: ";") {
                    let t = String(part).trimmingSpaces()
                    if t.hasPrefix("$"), let spec = PVSyntax.parse(String(t.dropFirst())),
                       case .success(.avp(let n, _)) = PseudoVariables.classify(spec) { _ = avpSlot(n) }
                }
                let c = ScriptValue.string(s)
                return .value({ _ in c }, constant: c)
            }
        case .flag:
            if let n = literalName(e) { return .flag(flagBit(n)) }
        case .logLevel:
            switch e.kind {
            case .word(let s), .string(let s): return .level(ScriptLogLevel(name: s) ?? .error)
            case .int(let v): return .level(ScriptLogLevel(rawValue: v) ?? .error)
            default: break
            }
        default: break
        }
        return .value(compileValue(e), constant: constantValue(e))
    }

    private func constantValue(_ e: Expr) -> ScriptValue? {
        switch e.kind {
        case .int(let v): return .int(v)
        case .null: return .null
        case .string(let s):
            if Interpolation.segments(s).contains(where: { if case .pv = $0 { return true } else { return false } }) {
                return nil
            }
            return .string(s)
        default: return nil
        }
    }

    /// The output variables of each declared argument of a host-run function call: a writable
    /// pseudo-variable argument, each entry of a `"$avp(a);$avp(b)"` list, the target of `attr/$pv`.
    mutating func outputVariables(_ c: FunctionCall) -> [[OutputVariable]] {
        guard let spec = registry.spec(named: c.name) else { return [] }
        return c.args.indices.prefix(spec.maxArgs).map { i in
            let a = c.args[i]
            switch (spec.kind(ofArgument: i, count: c.args.count), a.kind) {
            case (.variable, .pv(let ref)):
                return [outputVariable(ref.spec)]
            case (.variableList, .string(let s)):
                return s.split(separator: ";").compactMap { part in
                    let t = String(part).trimmingSpaces()
                    guard t.hasPrefix("$"), let spec = PVSyntax.parse(String(t.dropFirst())) else { return nil }
                    return outputVariable(spec)
                }
            case (.attributeMap, .string(let s)):
                guard let slash = s.firstIndex(of: "/") else { return [] }
                let t = String(s[s.index(after: slash)...]).trimmingSpaces()
                guard t.hasPrefix("$"), let spec = PVSyntax.parse(String(t.dropFirst())) else { return [] }
                return [outputVariable(spec)]
            default:
                return []
            }
        }
    }

    private mutating func outputVariable(_ spec: PVSpec) -> OutputVariable {
        OutputVariable(write: lvalue(spec, .output).assign, text: spec.text)
    }

    /// Arguments of a host-run function: output variables are passed as their text. A query argument
    /// becomes its text with `$1…$n` placeholders, and the values of its pseudo-variables follow the
    /// declared arguments (from index `spec.maxArgs` on), in order.
    mutating func externalArgs(_ c: FunctionCall) -> [ValueFn] {
        guard let spec = registry.spec(named: c.name) else { return [] }
        var parameters: [ValueFn] = []
        var args: [ValueFn] = c.args.enumerated().map { i, a in
            if i < spec.maxArgs, case .query = spec.kind(ofArgument: i, count: c.args.count),
               case .string(let text) = a.kind {
                let (sql, values) = compileQuery(text)
                parameters += values
                let constant = ScriptValue.string(sql)
                return { _ in constant }
            }
            if i < spec.maxArgs {
                let kind = spec.kind(ofArgument: i, count: c.args.count)
                if case .variable = kind, case .pv(let ref) = a.kind {
                    let t = ScriptValue.string(ref.spec.text)
                    return { _ in t }
                }
                if case .variableList = kind, case .string(let s) = a.kind {
                    if case .value(let f, _) = bindArg(a, kind) { return f }
                    let t = ScriptValue.string(s)
                    return { _ in t }
                }
                if case .attributeMap = kind, case .string(let s) = a.kind {
                    if let slash = s.firstIndex(of: "/") {
                        let target = String(s[s.index(after: slash)...]).trimmingSpaces()
                        if target.hasPrefix("$"), let spec = PVSyntax.parse(String(target.dropFirst())) {
                            switch PseudoVariables.classify(spec) {
                            case .success(.avp(let n, _)): _ = avpSlot(n)
                            case .success(.variable(let n)): _ = slotForVar(n)
                            default: break
                            }
                        }
                    }
                    let t = ScriptValue.string(s)
                    return { _ in t }
                }
            }
            return compileValue(a)
        }
        if !parameters.isEmpty {
            while args.count < spec.maxArgs { args.append({ _ in .null }) }
            args += parameters
        }
        if AuthDB.names.contains(c.name), args.count == 2 { args += authDBArguments(proxy: c.name == "proxy_authorize", realm: args[0]) }
        if RegistrarFunctions.usrlocNames.contains(c.name) {
            args = usrlocArguments(c.name, args, received: c.name == "save" ? registrarReceivedRead() : nil)
        }
        return args
    }

    /// True when usrloc keeps contacts in a database (`working_mode_preset` other than
    /// `single-instance-no-db`, or `db_mode` other than 0): the registrar calls then run on the host.
    private var usrlocUsesDatabase: Bool { RegistrarFunctions.usesDatabase(config) }

    /// A registrar call's values: the three declared arguments (absent ones NULL), then its database
    /// plan, which the host computes from the request when the call is made (`ScriptProxy.usrlocPlan`).
    private func usrlocArguments(_ name: String, _ declared: [ValueFn], received: ValueFn?) -> [ValueFn] {
        var args = declared
        while args.count < 3 { args.append({ _ in .null }) }
        let registered = name == "is_registered" || name == "registered"
        let domain = args[0], second = args[1], third = args[2]
        args.append { ctx in
            if let received { Self.takeReceived(received, &ctx) }
            let d = domain(&ctx).stringValue
            let flags = registered ? ScriptValue.null : second(&ctx)
            let aor = registered ? second(&ctx) : third(&ctx)
            let proxy = ctx.proxy
            return proxy.usrlocPlan(function: name, domain: d, flags: flags.isNull ? "" : flags.stringValue,
                                    aor: aor.isNull ? nil : aor.stringValue)
        }
        return args
    }

    /// The values `www_authorize`/`proxy_authorize` carry after their arguments (``AuthDB/Hidden``):
    /// the credentials' username, the realm, the column to read (auth_db `calculate_ha1` 1:
    /// `password_column`, default `password`; else `password_column`, default `ha1`, or
    /// `hash_column_sha256`, default `ha1_sha256`, for SHA-256 credentials), then the settings.
    private func authDBArguments(proxy: Bool, realm realmArg: @escaping ValueFn) -> [ValueFn] {
        func text(_ module: String, _ param: String) -> String? { config.modparam(module, param).map(Self.configText) }
        let calculate = (config.modparam("auth_db", "calculate_ha1")?.intValue ?? 0) != 0
        let plainColumn = text("auth_db", "password_column") ?? (calculate ? "password" : "ha1")
        let shaColumn = text("auth_db", "hash_column_sha256") ?? "ha1_sha256"
        let secret = ScriptValue.string(text("auth", "secret") ?? DigestAuth.processSecret)
        let settings: [ScriptValue] = [
            .int(calculate ? 1 : 0), secret, .string(text("auth_db", "user_column") ?? "username"),
            .string(text("auth_db", "domain_column") ?? "domain"),
            .int(config.modparam("auth_db", "use_domain")?.intValue ?? 0),
        ]
        let header = proxy ? "Proxy-Authorization" : "Authorization"
        // Each of the three values reads the realm and the credentials again (cheap: the message adapter
        // keeps the parsed To/From and the last credentials it parsed).
        let credentials: @Sendable (inout ExecutionContext) -> (String, DigestCredentials?) = { ctx in
            let realm = AuthFunctions.realm(realmArg(&ctx).stringValue, &ctx)
            return (realm, ctx.message.credentials(header: header, realm: realm))
        }
        var values: [ValueFn] = [
            { ctx in credentials(&ctx).1.map { .string($0.username) } ?? .null },
            { ctx in .string(credentials(&ctx).0) },
            { ctx in
                if calculate { return .string(plainColumn) }
                return .string(credentials(&ctx).1?.algorithm == .sha256 ? shaColumn : plainColumn)
            },
        ]
        for setting in settings { values.append({ _ in setting }) }
        return values
    }

    /// Turns query text with pseudo-variables into SQL with `$n` placeholders and the readers of their
    /// values. A variable quoted on its own (`'$rU'`) becomes a bare `$n`; one inside a longer quoted
    /// literal (`'%$rU%'`) becomes `'%' || $n || '%'`.
    private mutating func compileQuery(_ text: String) -> (String, [ValueFn]) {
        let segments = Interpolation.segments(text)
        var sql = ""
        var values: [ValueFn] = []
        var inQuote = false
        var skipLeadingQuote = false
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .literal(var literal):
                if skipLeadingQuote {
                    literal.removeFirst()
                    skipLeadingQuote = false
                }
                for character in literal where character == "'" { inQuote.toggle() }
                sql += literal
            case .pv(let spec):
                values.append(compilePVRead(spec))
                let placeholder = "$\(values.count)"
                guard inQuote else {
                    sql += placeholder
                    continue
                }
                var nextStartsWithQuote = false
                if index + 1 < segments.count, case .literal(let next) = segments[index + 1] {
                    nextStartsWithQuote = next.hasPrefix("'")
                }
                if sql.hasSuffix("'") && nextStartsWithQuote {
                    sql.removeLast()
                    sql += placeholder
                    skipLeadingQuote = true
                    inQuote = false
                } else {
                    sql += "' || \(placeholder) || '"
                }
            }
        }
        return (sql, values)
    }
}
