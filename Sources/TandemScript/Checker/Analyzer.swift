/// Semantic checks over a parsed script: configuration, modules, routes, functions, pseudo-variables.
struct Analyzer {
    let ast: ScriptAST
    let file: String
    let registry: FunctionRegistry
    var diagnostics: [Diagnostic] = []
    var missing: [MissingFeature] = []
    var config = ScriptConfig()
    /// Modules named in loadmodule that Tandem does not have (their modparams are not re-reported).
    var unavailableModules = Set<String>()
    private var routes: [RouteKey: RouteBlock] = [:]
    /// Route kinds from which each block can run (named routes inherit their callers' kinds).
    private var reach: [RouteKey: RouteKindSet] = [:]
    /// Routes that run as (or are called from) a `launch()` report route: no SIP transaction there.
    private var reportRoutes = Set<RouteKey>()
    /// Calls between routes (route(), async resume, launch report), by caller.
    private var edges: [RouteKey: [RouteKey]] = [:]

    init(ast: ScriptAST, file: String, registry: FunctionRegistry) {
        self.ast = ast
        self.file = file
        self.registry = registry
    }

    mutating func error(_ l: SourceLocation, _ m: String) { diagnostics.append(Diagnostic(l, m)) }

    mutating func run() {
        checkConfig()
        collectRoutes()
        computeReach()
        computeReportRoutes()
        for item in ast.items {
            guard case .route(let r) = item else { continue }
            let key = RouteKey(kind: r.kind, name: r.name ?? "")
            let kinds = reach[key] ?? RouteKindSet([r.kind])
            var scope = Scope(kinds: kinds, loops: 0, switches: 0, inReportRoute: reportRoutes.contains(key))
            checkBlock(r.body, &scope)
        }
    }

    // MARK: routes

    private mutating func collectRoutes() {
        var hasMain = false
        for item in ast.items {
            guard case .route(let r) = item else { continue }
            let key = RouteKey(kind: r.kind, name: r.name ?? "")
            if routes[key] != nil {
                let what = r.name.map { "\(r.kind.rawValue)[\($0)]" } ?? r.kind.rawValue
                error(r.location, "duplicate definition of \(what)")
                continue
            }
            routes[key] = r
            switch r.kind {
            case .request: if r.name == nil { hasMain = true }
            case .failure, .branch:
                if r.name == nil { error(r.location, "\(r.kind.rawValue) needs a name, e.g. \(r.kind.rawValue)[name]") }
            case .timer:
                if r.name == nil || r.interval == nil {
                    error(r.location, "timer_route needs a name and an interval, e.g. timer_route[name, 60]")
                } else if let i = r.interval, i <= 0 {
                    error(r.location, "timer_route interval must be positive")
                }
            case .event:
                error(r.location, "event_route is not supported in Tandem")
                missing.append(MissingFeature(kind: .routeType, name: "event_route", location: r.location))
            case .startup, .error, .local:
                if let n = r.name { error(r.location, "\(r.kind.rawValue) takes no name (got '\(n)')") }
            case .onReply: break
            }
        }
        if !hasMain && routes.isEmpty {
            error(SourceLocation(file: file, line: 1, column: 1), "missing main route block 'route { ... }'")
        } else if !hasMain {
            diagnostics.append(Diagnostic(SourceLocation(file: file, line: 1, column: 1),
                                          "no main route block 'route { ... }': requests will not be routed",
                                          severity: .warning))
        }
    }

    /// Propagates caller route kinds to named request routes (route(), async resume, launch report).
    private mutating func computeReach() {
        for (key, r) in routes {
            var targets: [RouteKey] = []
            Analyzer.collectCalls(r.body, into: &targets)
            edges[key] = targets
        }
        for (key, _) in routes where !(key.kind == .request && !key.name.isEmpty) {
            reach[key] = RouteKindSet([key.kind])
        }
        var changed = true
        var rounds = 0
        while changed && rounds < 1000 {
            changed = false
            rounds += 1
            for (from, targets) in edges {
                guard let kinds = reach[from], !kinds.isEmpty else { continue }
                for t in targets where routes[t] != nil && t.kind == .request && !t.name.isEmpty {
                    let old = reach[t] ?? []
                    let new = old.union(kinds)
                    if new != old { reach[t] = new; changed = true }
                }
            }
        }
        for (key, _) in routes where reach[key] == nil || reach[key]!.isEmpty {
            reach[key] = RouteKindSet([.request])
        }
    }

    /// The report routes of every `launch()` and the routes they call, directly or not.
    private mutating func computeReportRoutes() {
        var pending: [RouteKey] = []
        for (_, r) in routes { Analyzer.collectLaunchReports(r.body, into: &pending) }
        while let key = pending.popLast() {
            guard routes[key] != nil, reportRoutes.insert(key).inserted else { continue }
            pending += edges[key] ?? []
        }
    }

    private static func collectLaunchReports(_ body: [Statement], into out: inout [RouteKey]) {
        for s in body {
            switch s.kind {
            case .launch(_, let r, _, _): if let r { out.append(RouteKey(kind: .request, name: r)) }
            case .ifElse(_, let t, let e):
                collectLaunchReports(t, into: &out)
                if let e { collectLaunchReports(e, into: &out) }
            case .whileLoop(_, let b), .block(let b): collectLaunchReports(b, into: &out)
            case .switchBlock(_, let cases): for c in cases { collectLaunchReports(c.body, into: &out) }
            default: break
            }
        }
    }

    private static func collectCalls(_ body: [Statement], into out: inout [RouteKey]) {
        for s in body {
            switch s.kind {
            case .routeCall(let n, _): out.append(RouteKey(kind: .request, name: n))
            case .async(_, let r, _, _): out.append(RouteKey(kind: .request, name: r))
            case .launch(_, let r, _, _): if let r { out.append(RouteKey(kind: .request, name: r)) }
            case .ifElse(let c, let t, let e):
                collectExprCalls(c, into: &out)
                collectCalls(t, into: &out)
                if let e { collectCalls(e, into: &out) }
            case .whileLoop(let c, let b):
                collectExprCalls(c, into: &out)
                collectCalls(b, into: &out)
            case .forEach(_, _, let b):
                collectCalls(b, into: &out)
            case .switchBlock(_, let cases): for c in cases { collectCalls(c.body, into: &out) }
            case .block(let b): collectCalls(b, into: &out)
            case .assign(_, _, let v): collectExprCalls(v, into: &out)
            case .returnStatement(let v): if let v { collectExprCalls(v, into: &out) }
            default: break
            }
        }
    }

    private static func collectExprCalls(_ e: Expr, into out: inout [RouteKey]) {
        switch e.kind {
        case .routeCall(let n, _): out.append(RouteKey(kind: .request, name: n))
        case .binary(_, let a, let b): collectExprCalls(a, into: &out); collectExprCalls(b, into: &out)
        case .unary(_, let a): collectExprCalls(a, into: &out)
        default: break
        }
    }

    // MARK: statements

    struct Scope {
        var kinds: RouteKindSet
        var loops: Int
        var switches: Int
        /// The block runs as a launch report route (or is called from one).
        var inReportRoute = false
    }

    private static func kindNames(_ set: RouteKindSet) -> [RouteKind] { RouteKind.allCases.filter { set.contains($0) } }

    private mutating func checkBlock(_ body: [Statement], _ scope: inout Scope) {
        for s in body { checkStatement(s, &scope) }
    }

    private mutating func checkStatement(_ s: Statement, _ scope: inout Scope) {
        switch s.kind {
        case .call(let c):
            checkCall(c, scope, asyncForm: false)
        case .routeCall(let name, let args):
            checkRouteRef(name, at: s.location, plainOnly: false)
            for a in args { checkExpr(a, scope) }
        case .assign(let target, let op, let value):
            if let kind = checkPV(target) {
                if !target.spec.transformations.isEmpty {
                    error(target.location, "cannot assign to '\(target.spec.text)': a transformed value is read-only")
                } else if !kind.isWritable {
                    readOnlyAssignment(target, kind)
                } else if op == .colonAssign, case .avp(_, let idx) = kind, idx != nil, !isAll(idx) {
                    error(target.location, "':=' cannot be used with an indexed AVP")
                }
            }
            checkExpr(value, scope)
        case .ifElse(let c, let t, let e):
            checkExpr(c, scope, condition: true)
            checkBlock(t, &scope)
            if let e { checkBlock(e, &scope) }
        case .whileLoop(let c, let b):
            checkExpr(c, scope, condition: true)
            scope.loops += 1
            checkBlock(b, &scope)
            scope.loops -= 1
        case .forEach(let variable, let values, let b):
            if let kind = checkPV(variable), !kind.isWritable || !variable.spec.transformations.isEmpty {
                error(variable.location, "loop variable '\(variable.spec.text)' must be writable")
            }
            checkPV(values)
            scope.loops += 1
            checkBlock(b, &scope)
            scope.loops -= 1
        case .switchBlock(let subject, let cases):
            checkExpr(subject, scope)
            var defaults = 0
            var labels = Set<ScriptValue>()
            for c in cases {
                if let l = c.label {
                    let v: ScriptValue
                    switch l.kind {
                    case .int(let i): v = .int(i)
                    case .string(let s): v = .string(s)
                    default: v = .null
                    }
                    if !labels.insert(v).inserted { error(c.location, "duplicate case label '\(v)'") }
                } else {
                    defaults += 1
                    if defaults > 1 { error(c.location, "more than one 'default' in switch") }
                }
                scope.switches += 1
                checkBlock(c.body, &scope)
                scope.switches -= 1
            }
        case .breakStatement:
            if scope.loops == 0 && scope.switches == 0 {
                error(s.location, "'break' outside of a loop or switch")
            }
        case .exit, .drop: break
        case .returnStatement(let v): if let v { checkExpr(v, scope) }
        case .async(let call, let resume, let resumeLoc, let timeout):
            let bad = Analyzer.kindNames(scope.kinds).filter { ![.request, .failure, .onReply].contains($0) }
            if let k = bad.first { error(s.location, "async() is not allowed in \(k.rawValue)") }
            if scope.inReportRoute {
                error(s.location, "async() is not allowed in a launch report route (it has no transaction to suspend)")
            }
            if !config.modules.contains("tm") {
                error(s.location, "async() needs module 'tm' to be loaded")
            }
            checkCall(call, scope, asyncForm: true)
            checkRouteRef(resume, at: resumeLoc, plainOnly: true, role: "resume route")
            if let timeout {
                // Seconds: an integer, a decimal (`0.5`) or a variable.
                if case .string(let text) = timeout.kind, Double(text) != nil {
                    if (Double(text) ?? 0) < 0 { error(timeout.location, "argument 3 of 'async' must not be negative") }
                } else {
                    checkArgument(timeout, kind: .int, index: 3, function: "async", scope)
                }
            }
        case .launch(let call, let report, let reportLoc, let param):
            checkCall(call, scope, asyncForm: true, launching: true)
            if let report, let reportLoc { checkRouteRef(report, at: reportLoc, plainOnly: true, role: "report route") }
            if let param { checkArgument(param, kind: .string, index: 3, function: "launch", scope) }
        case .block(let b):
            checkBlock(b, &scope)
        }
    }

    private func isAll(_ index: PVIndex?) -> Bool {
        if case .all = index { return true }
        return false
    }

    private mutating func checkRouteRef(_ name: String, at l: SourceLocation, plainOnly: Bool, role: String = "route") {
        if routes[RouteKey(kind: .request, name: name)] != nil { return }
        if plainOnly, let other = RouteKind.allCases.first(where: { routes[RouteKey(kind: $0, name: name)] != nil }) {
            error(l, "\(role) '\(name)' must be a plain route[...], not \(other.rawValue)")
            return
        }
        let names = routes.keys.filter { $0.kind == .request && !$0.name.isEmpty }.map(\.name)
        error(l, "unknown route '\(name)'" + Suggestions.hint(for: name, in: names))
    }

    private mutating func checkCall(_ c: FunctionCall, _ scope: Scope, asyncForm: Bool, launching: Bool = false) {
        if c.name == "async" || c.name == "launch" {
            error(c.location, "\(c.name)() can only be used as a statement")
            return
        }
        guard let spec = registry.spec(named: c.name) else {
            error(c.location, OpenSIPSFunctions.message(for: c.name)
                  ?? "unknown function '\(c.name)'" + (OpenSIPSFunctions.replacementHint(for: c.name)
                    ?? Suggestions.hint(for: c.name, in: registry.specs.map(\.name))))
            missing.append(MissingFeature(kind: .function, name: c.name, location: c.location))
            for a in c.args { if case .pv = a.kind { checkExpr(a, scope) } }
            return
        }
        if !spec.modules.isEmpty && !spec.modules.contains(where: { config.modules.contains($0) }) {
            let list = spec.modules.map { "'\($0)'" }.joined(separator: " or ")
            error(c.location, "function '\(c.name)' needs module \(list) to be loaded")
        }
        if asyncForm && !spec.hasAsyncForm {
            error(c.location, "function '\(c.name)' has no async form and cannot be used in \(launching ? "launch" : "async")()")
        }
        if c.args.count < spec.minArgs || c.args.count > spec.maxArgs {
            let expected = spec.minArgs == spec.maxArgs ? "\(spec.minArgs)" : "\(spec.minArgs) to \(spec.maxArgs)"
            let noun = spec.maxArgs == 1 && spec.minArgs == 1 ? "argument" : "arguments"
            error(c.location, "function '\(c.name)' expects \(expected) \(noun), got \(c.args.count)")
        } else {
            for (i, a) in c.args.enumerated() {
                checkArgument(a, kind: spec.kind(ofArgument: i, count: c.args.count), index: i + 1, function: c.name, scope,
                              minArgs: spec.minArgs)
            }
        }
        let disallowed = Analyzer.kindNames(scope.kinds).filter { !spec.allowedRoutes.contains($0) }
        if let k = disallowed.first {
            error(c.location, "function '\(c.name)' cannot be used in \(k.rawValue)")
        }
        if spec.suspendsTransparently(in: config) && !asyncForm,
           let k = Analyzer.kindNames(scope.kinds).first(where: { ![.request, .failure].contains($0) }) {
            diagnostics.append(Diagnostic(c.location, "'\(c.name)' in \(k.rawValue) runs synchronously and blocks the "
                                          + "worker; it suspends transparently only in request and failure routes",
                                          severity: .warning))
        }
    }

    private mutating func checkArgument(_ a: Expr, kind: ArgKind, index: Int, function: String, _ scope: Scope,
                                        minArgs: Int = 0) {
        let l = a.location
        let prefix = "argument \(index) of '\(function)'"
        switch a.kind {
        case .pv(let ref):
            guard let pvKind = checkPV(ref) else { return }
            switch kind {
            case .route: error(l, "\(prefix) must be a route name")
            case .variable: if !pvKind.isWritable { error(l, "\(prefix) must be a writable pseudo-variable") }
            case .variableList: error(l, "\(prefix) must be a string listing output variables, e.g. \"$avp(a);$avp(b)\"")
            default: break
            }
        case .int(let v):
            switch kind {
            case .flag: if v < 0 || v > 63 { error(l, "\(prefix): flag number must be in 0...63") }
            case .int, .any, .logLevel: break
            // `t_on_failure(1)`: OpenSIPS names routes as text, numbers included.
            case .route(let rk): checkArgRoute(String(v), rk, l)
            case .string, .query, .attributeMap: error(l, "\(prefix) must be a string")
            case .variable, .variableList: error(l, "\(prefix) must be a writable pseudo-variable")
            }
        case .string(let s):
            switch kind {
            case .int: if Int(s) == nil && !s.contains("$") { error(l, "\(prefix) must be an integer") }
                else { checkInterpolation(s, at: l) }
            case .variable:
                error(l, "\(prefix) must be a writable pseudo-variable")
            case .variableList:
                for part in s.split(separator: ";") {
                    let t = String(part).trimmingSpaces()
                    guard t.hasPrefix("$"), let spec = PVSyntax.parse(String(t.dropFirst())) else {
                        error(l, "\(prefix): '\(t)' is not a pseudo-variable")
                        continue
                    }
                    if let k = checkPV(PVRef(spec: spec, location: l)), !k.isWritable {
                        error(l, "\(prefix): '\(t)' is not writable")
                    }
                }
            case .route(let rk): checkArgRoute(s, rk, l)
            case .logLevel:
                if ScriptLogLevel(name: s) == nil { error(l, "\(prefix) must be a log level (L_ALERT ... L_DBG)") }
            case .flag: break
            case .string, .any, .query: checkInterpolation(s, at: l)
            case .attributeMap:
                // "attribute" or "attribute/$avp(dst)".
                if let slash = s.firstIndex(of: "/") {
                    let target = String(s[s.index(after: slash)...]).trimmingSpaces()
                    guard target.hasPrefix("$"), let spec = PVSyntax.parse(String(target.dropFirst())) else {
                        error(l, "\(prefix): '\(target)' is not a pseudo-variable")
                        break
                    }
                    if let k = checkPV(PVRef(spec: spec, location: l)), !k.isWritable {
                        error(l, "\(prefix): '\(target)' is not writable")
                    }
                }
            }
        case .word(let w):
            switch kind {
            case .route(let rk): checkArgRoute(w, rk, l)
            case .flag: break
            case .logLevel:
                if ScriptLogLevel(name: w) == nil { error(l, "\(prefix) must be a log level (L_ALERT ... L_DBG)") }
            default: error(l, "\(prefix): unexpected identifier '\(w)' (strings must be quoted)")
            }
        case .null:
            if case .any = kind { break }
            if case .string = kind { break }
            error(l, "\(prefix) cannot be NULL")
        case .omitted:
            if index <= minArgs { error(l, "\(prefix) is required and cannot be left empty") }
        case .address:
            switch kind {
            case .string, .any: break
            default: error(l, "\(prefix) cannot be an IP address")
            }
        case .hostName(let name):
            switch kind {
            case .string, .any: break
            default: error(l, "\(prefix): unexpected host name '\(name)' (strings must be quoted)")
            }
        default:
            error(l, "\(prefix) must be a literal or a pseudo-variable")
        }
    }

    private mutating func checkArgRoute(_ name: String, _ kind: RouteKind, _ l: SourceLocation) {
        if routes[RouteKey(kind: kind, name: name)] != nil { return }
        // `t_on_failure("0")` / `t_on_branch("0")` without such a route: tm's route 0 is "none" (disarms).
        if name == "0", kind == .failure || kind == .branch { return }
        error(l, "unknown \(kind.rawValue) '\(name)'")
    }

    /// An assignment to a read-only pseudo-variable. Out of line: `checkStatement` recurses through long else-if ladders (1,000
    /// levels on a thread's stack), so its frame must not grow.
    @inline(never)
    private mutating func readOnlyAssignment(_ target: PVRef, _ kind: PVKind) {
        error(target.location, "pseudo-variable '\(target.spec.text)' is read-only")
    }

    private mutating func checkPV(_ ref: PVRef) -> PVKind? {
        switch PseudoVariables.classify(ref.spec) {
        case .success(let k):
            var ok = true
            for t in ref.spec.transformations {
                if let e = Transformations.validate(t) {
                    error(ref.location, e.message)
                    if e.message.contains("does not support") {
                        missing.append(MissingFeature(kind: .transformation, name: "{\(t)}", location: ref.location))
                    }
                    ok = false
                    continue
                }
                if case .success(let spec) = Transformations.parse(t) {
                    for case .pv(let inner) in spec.arguments { checkPV(PVRef(spec: inner, location: ref.location)) }
                }
            }
            return ok ? k : nil
        case .failure(let e):
            error(ref.location, e.message)
            if let m = e.missing { missing.append(MissingFeature(kind: .pseudoVariable, name: m, location: ref.location)) }
            return nil
        }
    }

    /// Checks pseudo-variables inside a string literal; positions point at the `$` when the
    /// literal is on one line (escape sequences may shift the column by their extra bytes).
    private mutating func checkInterpolation(_ s: String, at l: SourceLocation) {
        let singleLine = !s.utf8.contains(10)
        for (seg, offset) in Interpolation.segmentsWithOffsets(s) {
            guard case .pv(let spec) = seg else { continue }
            var at = l
            if singleLine { at.column += 1 + offset }
            checkPV(PVRef(spec: spec, location: at))
        }
    }

    private mutating func checkExpr(_ e: Expr, _ scope: Scope, condition: Bool = false) {
        switch e.kind {
        case .int, .null, .address: break
        case .omitted: error(e.location, "an empty argument is only allowed in a function call")
        case .string(let s): checkInterpolation(s, at: e.location)
        case .pv(let ref): checkPV(ref)
        case .word(let w):
            if ExprAliases.message[w] == nil && ScriptLogLevel(name: w) == nil {
                error(e.location, "unexpected identifier '\(w)'")
            }
        case .myself:
            error(e.location, "'myself' can only be compared with == or !=")
        case .hostName(let name):
            error(e.location, "host name '\(name)' can only be compared with == or != (quote it to use it as a string)")
        case .binary(let op, let a, let b):
            if op == .equal || op == .notEqual, case .hostName = b.kind {
                checkExpr(a, scope)
                return
            }
            if op == .equal || op == .notEqual, case .hostName = a.kind {
                checkExpr(b, scope)
                return
            }
            if op == .equal || op == .notEqual, b.singleLabelHost(comparedWith: a) != nil || a.singleLabelHost(comparedWith: b) != nil {
                checkExpr(b.singleLabelHost(comparedWith: a) != nil ? a : b, scope)
                return
            }
            if op == .equal || op == .notEqual, case .myself = b.kind {
                checkExpr(a, scope)
                return
            }
            if op == .equal || op == .notEqual, case .myself = a.kind {
                checkExpr(b, scope)
                return
            }
            checkExpr(a, scope, condition: op == .and || op == .or)
            if op == .match || op == .noMatch, case .string(let pattern) = b.kind {
                if case .failure(let err) = POSIXRegex.compile(pattern) {
                    error(b.location, "invalid regular expression '\(pattern)': \(err.message)")
                }
                return
            }
            checkExpr(b, scope, condition: op == .and || op == .or)
        case .unary(let op, let a): checkExpr(a, scope, condition: op == .not)
        case .call(let c): checkCall(c, scope, asyncForm: false)
        case .routeCall(let name, let args):
            checkRouteRef(name, at: e.location, plainOnly: false)
            for a in args { checkExpr(a, scope) }
        }
        _ = condition
    }
}
