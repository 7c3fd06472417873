/// `$msg.branch...` of OpenSIPS 3.6 compiled to reads and writes of the proxy's message branches
/// (`ScriptProxy.messageBranch(index:)`): index 0 is the Request-URI branch, no index the last branch,
/// a negative index counts from the last (-1), `[*]` joins every branch's value with commas.
extension Compiler {
    /// The branch index an access names, or nil for `[*]`.
    private mutating func messageBranchIndex(_ index: PVIndex?) -> (@Sendable (inout ExecutionContext) -> Int)? {
        if case .all = index { return nil }
        guard let at = compileIndex(index) else {
            return { ctx in ctx.proxy.messageBranchCount }
        }
        return { ctx in
            let i = at(&ctx)
            return i >= 0 ? i : ctx.proxy.messageBranchCount + 1 + i
        }
    }

    mutating func compileMessageBranchRead(_ field: MessageBranchField?, _ index: PVIndex?) -> ValueFn {
        let f: MessageBranchField
        switch field {
        case .none: f = .uri
        case .flag(let name): f = .flag(String(flagBit(name)))
        case .some(let other): f = other
        }
        guard let at = messageBranchIndex(index) else {
            return { ctx in
                var values: [String] = []
                for i in 0...ctx.proxy.messageBranchCount {
                    guard let b = ctx.proxy.messageBranch(index: i) else { continue }
                    let v = Self.value(of: b, f, ctx)
                    if !v.isNull { values.append(v.stringValue) }
                }
                return values.isEmpty ? .null : .string(values.joined(separator: ","))
            }
        }
        return { ctx in
            let i = at(&ctx)
            guard i >= 0, let b = ctx.proxy.messageBranch(index: i) else { return .null }
            return Self.value(of: b, f, ctx)
        }
    }

    private static func value(of b: MessageBranch, _ field: MessageBranchField, _ ctx: ExecutionContext) -> ScriptValue {
        switch field {
        case .uri: return .string(b.uri)
        case .destinationURI: return b.destinationURI.map { .string($0) } ?? .null
        case .path: return b.path.map { .string($0) } ?? .null
        case .q: return b.q.map { .string(formatQ($0)) } ?? .null
        case .flags:
            guard b.flags != 0 else { return .null }
            var names: [String] = []
            for bit in 0..<64 where b.flags & (1 << UInt64(bit)) != 0 { names.append(ctx.flagNames[bit] ?? String(bit)) }
            return .string(names.joined(separator: ","))
        case .socket: return b.socket.map { .string($0) } ?? .null
        case .flag(let bit): return .int(b.flags & (1 << UInt64(Int(bit) ?? 0)) != 0 ? 1 : 0)
        case .attribute(let name): return b.attributes[name] ?? .null
        }
    }

    mutating func messageBranchLValue(_ field: MessageBranchField?, _ index: PVIndex?, text: String) -> LValue {
        guard let field else {
            // `$msg.branch = uri` adds a branch.
            return LValue(assign: { ctx, v in
                guard !v.isNull else { return }
                _ = ctx.proxy.appendBranch(uri: v.stringValue, q: nil)
            }, text: text)
        }
        let f: MessageBranchField
        if case .flag(let name) = field { f = .flag(String(flagBit(name))) } else { f = field }
        guard let at = messageBranchIndex(index) else { return LValue(assign: { _, _ in }, text: text) }
        return LValue(assign: { ctx, v in
            let i = at(&ctx)
            guard i >= 0, var b = ctx.proxy.messageBranch(index: i) else { return }
            switch f {
            case .uri:
                guard !v.isNull else { return }
                b.uri = v.stringValue
            case .destinationURI: b.destinationURI = v.isNull ? nil : v.stringValue
            case .path: b.path = v.isNull ? nil : v.stringValue
            case .q:
                if v.isNull { b.q = nil } else {
                    guard let q = Self.parseQ(v) else { return }
                    b.q = q
                }
            case .flags:
                var flags: UInt64 = 0
                if !v.isNull {
                    for part in v.stringValue.split(separator: ",") {
                        let name = String(part).trimmingSpaces()
                        guard !name.isEmpty else { continue }
                        if let n = Int(name), n >= 0, n < 64 { flags |= 1 << UInt64(n) }
                        else if let bit = ctx.flagNames.first(where: { $0.value == name })?.key { flags |= 1 << UInt64(bit) }
                    }
                }
                b.flags = flags
            case .socket: b.socket = v.isNull ? nil : v.stringValue
            case .flag(let bit):
                let mask: UInt64 = 1 << UInt64(Int(bit) ?? 0)
                let on = (v.intValue ?? (v.stringValue == "true" ? 1 : 0)) != 0
                b.flags = on ? b.flags | mask : b.flags & ~mask
            case .attribute(let name): b.attributes[name] = v.isNull ? nil : v
            }
            _ = ctx.proxy.setMessageBranch(index: i, b)
        }, text: text)
    }

    /// A q-value in thousandths as scripts write it (`500` → `0.5`, `1000` → `1`).
    static func formatQ(_ q: Int) -> String {
        if q >= 1000 { return "1" }
        if q <= 0 { return "0" }
        var fraction = String(q)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "0." + fraction
    }

    /// `0.5`, `"0.5"`, `1`, or thousandths above 1; nil when out of 0…1.
    static func parseQ(_ v: ScriptValue) -> Int? {
        if case .int(let n) = v { return n <= 1 ? (n >= 0 ? n * 1000 : nil) : (n <= 1000 ? n : nil) }
        let s = v.stringValue.trimmingSpaces()
        if let n = Int(s) { return parseQ(.int(n)) }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let units = Int(parts[0].isEmpty ? "0" : String(parts[0])), units >= 0, units <= 1,
              parts[1].count <= 3, parts[1].allSatisfy(\.isNumber) else { return nil }
        var fraction = String(parts[1])
        while fraction.count < 3 { fraction += "0" }
        let q = units * 1000 + (Int(fraction) ?? 0)
        return q <= 1000 ? q : nil
    }
}
