/// Expression and condition compilation.
extension Compiler {
    mutating func compileValue(_ e: Expr) -> ValueFn {
        switch e.kind {
        case .int(let v):
            let c = ScriptValue.int(v)
            return { _ in c }
        case .null, .omitted:
            return { _ in .null }
        case .address(_, let text), .hostName(let text):
            let c = ScriptValue.string(text)
            return { _ in c }
        case .string(let s):
            return compileString(s)
        case .pv(let ref):
            return compilePVRead(ref.spec)
        case .word(let w):
            // The log level names are integer constants (`$xlog_level = L_DBG`).
            if let level = ScriptLogLevel(name: w) {
                let c = ScriptValue.int(level.rawValue)
                return { _ in c }
            }
            guard let pv = ExprAliases.message[w] else { return { _ in .null } }
            return { ctx in ctx.message.get(pv, name: nil, index: nil) }
        case .myself:
            return { _ in .null }
        case .binary(let op, let a, let b):
            switch op {
            case .add:
                let x = compileValue(a), y = compileValue(b)
                return { ctx in
                    let l = x(&ctx)
                    return Operators.add(l, y(&ctx))
                }
            case .subtract, .multiply, .divide, .modulo, .bitAnd, .bitOr, .bitXor, .shiftLeft, .shiftRight:
                let x = compileValue(a), y = compileValue(b)
                return { ctx in
                    let l = x(&ctx)
                    return Operators.arithmetic(op, l, y(&ctx))
                }
            default:
                return boolValue(compileCond(e))
            }
        case .unary(let op, let a):
            switch op {
            case .not: return boolValue(compileCond(e))
            case .negate:
                let x = compileValue(a)
                return { ctx in .int(0 &- (x(&ctx).intValue ?? 0)) }
            case .bitNot:
                let x = compileValue(a)
                return { ctx in .int(~(x(&ctx).intValue ?? 0)) }
            }
        case .call(let c):
            let impl = bindCallForExpr(c)
            return { ctx in
                let r = impl(&ctx)
                ctx.rc = r
                return .int(r)
            }
        case .routeCall(let name, let args):
            let run = routeRunnerForExpr(name, args)
            return { ctx in
                let flow = run(&ctx)
                if flow != .next { ctx.stoppedFlow = flow }
                return .int(ctx.rc)
            }
        }
    }

    private func boolValue(_ c: @escaping CondFn) -> ValueFn {
        { ctx in
            if case .yes = c(&ctx) { return .int(1) }
            return .int(0)
        }
    }

    mutating func compileCond(_ e: Expr) -> CondFn {
        switch e.kind {
        case .call(let c):
            let impl = bindCallForExpr(c)
            return { ctx in
                let r = impl(&ctx)
                ctx.rc = r
                return r > 0 ? .yes : (r < 0 ? .no : .stop(.exit))
            }
        case .routeCall(let name, let args):
            let run = routeRunnerForExpr(name, args)
            return { ctx in
                let f = run(&ctx)
                if f != .next { return .stop(f) }
                return ctx.rc > 0 ? .yes : .no
            }
        case .unary(.not, let a):
            let c = compileCond(a)
            return { ctx in
                switch c(&ctx) {
                case .yes: return .no
                case .no: return .yes
                case .stop(let f): return .stop(f)
                }
            }
        case .binary(let op, let a, let b):
            switch op {
            case .and:
                let x = compileCond(a), y = compileCond(b)
                return { ctx in
                    let l = x(&ctx)
                    guard case .yes = l else { return l }
                    return y(&ctx)
                }
            case .or:
                let x = compileCond(a), y = compileCond(b)
                return { ctx in
                    let l = x(&ctx)
                    if case .no = l { return y(&ctx) }
                    return l
                }
            case .equal, .notEqual:
                if case .myself = b.kind { return compileMyself(a, negate: op == .notEqual) }
                if case .myself = a.kind { return compileMyself(b, negate: op == .notEqual) }
                if case .address(let net, _) = b.kind { return compileInNetwork(a, net, negate: op == .notEqual) }
                if case .address(let net, _) = a.kind { return compileInNetwork(b, net, negate: op == .notEqual) }
                if case .hostName(let name) = b.kind { return compileIsHost(a, name, b.location, negate: op == .notEqual) }
                if case .hostName(let name) = a.kind { return compileIsHost(b, name, a.location, negate: op == .notEqual) }
                if let name = b.singleLabelHost(comparedWith: a) { return compileIsHost(a, name, b.location, negate: op == .notEqual) }
                if let name = a.singleLabelHost(comparedWith: b) { return compileIsHost(b, name, a.location, negate: op == .notEqual) }
                return compileComparison(op, a, b)
            case .less, .greater, .lessEqual, .greaterEqual:
                return compileComparison(op, a, b)
            case .match, .noMatch:
                let x = compileValue(a)
                let negate = op == .noMatch
                if case .string(let pattern) = b.kind, case .success(let re) = POSIXRegex.compile(pattern) {
                    return { ctx in
                        let v = x(&ctx)
                        let m = v.isNull ? false : re.matches(v.stringValue)
                        return m != negate ? .yes : .no
                    }
                }
                let y = compileValue(b)
                return { ctx in
                    let v = x(&ctx)
                    let p = y(&ctx).stringValue
                    guard !v.isNull, case .success(let re) = POSIXRegex.compile(p) else { return negate ? .yes : .no }
                    return re.matches(v.stringValue) != negate ? .yes : .no
                }
            default:
                break
            }
        default:
            break
        }
        let v = compileValue(e)
        return { ctx in v(&ctx).isTruthy ? .yes : .no }
    }

    private mutating func compileComparison(_ op: BinaryOp, _ a: Expr, _ b: Expr) -> CondFn {
        let x = compileValue(a)
        if case .null = b.kind {
            let wantNull = op == .equal
            return { ctx in x(&ctx).isNull == wantNull ? .yes : .no }
        }
        if let c = constantString(b), op == .equal || op == .notEqual {
            let eq = op == .equal
            return { ctx in
                let v = x(&ctx)
                if case .string(let s) = v { return (s == c) == eq ? .yes : .no }
                return Operators.compare(op, v, .string(c)) ? .yes : .no
            }
        }
        let y = compileValue(b)
        return { ctx in
            let l = x(&ctx)
            return Operators.compare(op, l, y(&ctx)) ? .yes : .no
        }
    }

    private func constantString(_ e: Expr) -> String? {
        guard case .string(let s) = e.kind else { return nil }
        if Interpolation.segments(s).contains(where: { if case .pv = $0 { return true } else { return false } }) {
            return nil
        }
        return s
    }

    /// `$si == 10.0.0.0/8`: whether the value is an address inside the network (equal, for a plain address).
    private mutating func compileInNetwork(_ a: Expr, _ net: IPNetwork, negate: Bool) -> CondFn {
        let x = compileValue(a)
        return { ctx in
            guard case .string(let s) = x(&ctx), let ip = IPAddress(s) else { return negate ? .yes : .no }
            return net.contains(ip) != negate ? .yes : .no
        }
    }

    /// `$(<reply>hdr(X))`: the variable read from the transaction's other message, which the host
    /// lends for the read (``ScriptProxy/contextMessage(_:)``); null when there is none. When the
    /// message being routed already is of that kind (`<request>` in a request route), it is read.
    private mutating func compileInContext(_ spec: PVSpec, _ context: PVContext) -> ValueFn {
        var inner = spec
        inner.context = nil
        inner.transformations = []
        let read = compilePVBase(inner)
        let wantsRequest = context == .request
        return { ctx in
            if ctx.message.isRequest == wantsRequest { return read(&ctx) }
            guard let other = ctx.proxy.contextMessage(context) else { return .null }
            let routed = ctx.message
            ctx.message = other
            let value = read(&ctx)
            ctx.message = routed
            return value
        }
    }

    /// `$si == backup.example.com`: whether the value is the host name or one of the addresses it
    /// resolved to when the script was loaded (``Script/resolveHostNames(_:)``).
    private mutating func compileIsHost(_ a: Expr, _ name: String, _ location: SourceLocation, negate: Bool) -> CondFn {
        let x = compileValue(a)
        let table = hostNames
        let slot = table.slot(for: name, at: location)
        return { ctx in
            let v = x(&ctx)
            guard !v.isNull else { return negate ? .yes : .no }
            return table.matches(v.stringValue, slot: slot) != negate ? .yes : .no
        }
    }

    private mutating func compileMyself(_ a: Expr, negate: Bool) -> CondFn {
        // The request URI already has its host and port split by the message.
        var isRURI = false
        if case .word("uri") = a.kind { isRURI = true }
        if case .pv(let ref) = a.kind, ref.spec.name == "ru", ref.spec.argument == nil, ref.spec.index == nil,
           ref.spec.transformations.isEmpty { isRURI = true }
        if isRURI {
            return { ctx in
                let host = ctx.message.get(.requestDomain, name: nil, index: nil)
                guard !host.isNull else { return negate ? .yes : .no }
                let port = ctx.message.get(.requestPort, name: nil, index: nil).intValue ?? 0
                let mine = ctx.proxy.isMyself(host: host.stringValue, port: port)
                return mine != negate ? .yes : .no
            }
        }
        let x = compileValue(a)
        return { ctx in
            let v = x(&ctx)
            guard !v.isNull else { return negate ? .yes : .no }
            let (host, port) = URIHost.split(v.stringValue)
            let mine = ctx.proxy.isMyself(host: host, port: port)
            return mine != negate ? .yes : .no
        }
    }

    mutating func compileString(_ s: String) -> ValueFn {
        let segs = Interpolation.segments(s)
        if segs.count == 1, case .literal(let l) = segs[0] {
            let c = ScriptValue.string(l)
            return { _ in c }
        }
        var parts: [(String, ValueFn?)] = []
        for seg in segs {
            switch seg {
            case .literal(let l): parts.append((l, nil))
            case .pv(let spec): parts.append(("", compilePVRead(spec)))
            }
        }
        let pieces = parts
        let estimate = segs.reduce(0) { n, seg in if case .literal(let l) = seg { return n + l.utf8.count } else { return n + 16 } }
        return { ctx in
            var out = ""
            out.reserveCapacity(estimate)
            for (lit, fn) in pieces {
                if let fn { out += fn(&ctx).stringValue } else { out += lit }
            }
            return .string(out)
        }
    }

    mutating func compilePVRead(_ spec: PVSpec) -> ValueFn {
        let base = compilePVBase(spec)
        guard !spec.transformations.isEmpty else { return base }
        return compileTransformations(spec.transformations, input: base)
    }

    /// Reader of an index: a constant, or the integer value of another pseudo-variable.
    mutating func compileIndex(_ index: PVIndex?) -> (@Sendable (inout ExecutionContext) -> Int)? {
        switch index {
        case .none, .all: return nil
        case .fixed(let i): return { _ in i }
        case .dynamic(let spec):
            let read = compilePVRead(spec)
            return { ctx in read(&ctx).intValue ?? 0 }
        }
    }

    private mutating func compilePVBase(_ spec: PVSpec) -> ValueFn {
        guard case .success(let kind) = PseudoVariables.classify(spec) else { return { _ in .null } }
        switch kind {
        case .inContext(let context, _):
            return compileInContext(spec, context)
        case .variable(let n):
            let s = slotForVar(n)
            return { ctx in s < ctx.vars.count ? ctx.vars[s] : .null }
        case .avp(let n, let index):
            let s = slotForAVP(n)
            switch index {
            case .dynamic:
                let at = compileIndex(index)!
                return { ctx in
                    let i = at(&ctx)
                    return ctx.avps.value(slot: s, index: i)
                }
            case .fixed(let i):
                return { ctx in ctx.avps.value(slot: s, index: i) }
            case .none, .all:
                // `[*]` read gives the newest value, as a plain read does.
                return { ctx in ctx.avps.value(slot: s, index: 0) }
            }
        case .param(let n):
            let i = n - 1
            return { ctx in i < ctx.params.count ? ctx.params[i] : .null }
        case .rc:
            return { ctx in .int(ctx.rc) }
        case .rand:
            return { _ in .int(TimeFormat.random()) }
        case .time(let f):
            return { _ in .string(TimeFormat.format(f)) }
        case .timestamp:
            return { _ in .int(TimeFormat.now()) }
        case .formattedTime:
            return { _ in .string(TimeFormat.format("%a %b %e %H:%M:%S %Y")) }
        case .messageFlags:
            return { ctx in .string(ctx.flagList()) }
        case .transactionTimeout(let invite):
            return { ctx in ctx.proxy.transactionTimeout(invite: invite).map { .int($0) } ?? .null }
        case .messageFlag(let name):
            let mask: UInt64 = 1 << UInt64(flagBit(name))
            return { ctx in .int(ctx.message.flags & mask != 0 ? 1 : 0) }
        case .messageBranch(let field, let index):
            return compileMessageBranchRead(field, index)
        case .messageBranchLastIndex:
            return { ctx in .int(ctx.proxy.messageBranchCount) }
        case .logVerbosity(let xlog):
            return { ctx in .int((xlog ? ctx.xlogLevel : ctx.logLevel).rawValue) }
        case .branchFlags:
            return { ctx in .string(ctx.flagList(of: ctx.proxy.branchFlags(index: 0) ?? 0)) }
        case .branchFlag(let name):
            let mask: UInt64 = 1 << UInt64(flagBit(name))
            return { ctx in .int((ctx.proxy.branchFlags(index: 0) ?? 0) & mask != 0 ? 1 : 0) }
        case .messageIsRequest:
            return { ctx in .int(ctx.message.isRequest ? 1 : 0) }
        case .messageType:
            return { ctx in .string(ctx.message.isRequest ? "request" : "reply") }
        case .sdp(let sel):
            if let spec = sel.line?.dynamicIndex {
                let at = compilePVRead(spec)
                return { ctx in
                    let i = at(&ctx).intValue ?? 0
                    return sel.read(body: ctx.message.get(.body, name: nil, index: nil), lineIndex: i)
                }
            }
            return { ctx in sel.read(body: ctx.message.get(.body, name: nil, index: nil), lineIndex: nil) }
        case .message(let pv, let name, let index):
            switch index {
            case .none: return { ctx in ctx.message.get(pv, name: name, index: nil) }
            case .fixed(let i): return { ctx in ctx.message.get(pv, name: name, index: i) }
            case .dynamic:
                let at = compileIndex(index)!
                return { ctx in
                    let i = at(&ctx)
                    return ctx.message.get(pv, name: name, index: i)
                }
            case .all:
                // Every occurrence, comma-separated (`$(hdr(Via)[*])`).
                return { ctx in
                    var parts: [String] = []
                    while parts.count < 1000 {
                        let v = ctx.message.get(pv, name: name, index: parts.count)
                        if v.isNull { break }
                        parts.append(v.stringValue)
                    }
                    return parts.isEmpty ? .null : .string(parts.joined(separator: ","))
                }
            }
        }
    }
}
