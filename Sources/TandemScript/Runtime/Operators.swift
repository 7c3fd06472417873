/// Arithmetic and comparison semantics of script values (OpenSIPS rules).
enum Operators {
    /// `+` adds integers and concatenates when either side is a string.
    @inline(__always)
    static func add(_ a: ScriptValue, _ b: ScriptValue) -> ScriptValue {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(x &+ y)
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.string(let x), .int(let y)): return .string(x + String(y))
        case (.int(let x), .string(let y)): return .string(String(x) + y)
        case (.string, .null): return a
        case (.null, .string): return b
        case (.null, .int(let y)): return .int(y)
        case (.int(let x), .null): return .int(x)
        case (.null, .null): return .null
        }
    }

    /// Integer operators; NULL and non-numeric strings count as 0. Division by zero gives NULL.
    static func arithmetic(_ op: BinaryOp, _ a: ScriptValue, _ b: ScriptValue) -> ScriptValue {
        if op == .add { return add(a, b) }
        let x = a.intValue ?? 0, y = b.intValue ?? 0
        switch op {
        case .subtract: return .int(x &- y)
        case .multiply: return .int(x &* y)
        case .divide: return y == 0 ? .null : .int(x == Int.min && y == -1 ? x : x / y)
        case .modulo: return y == 0 ? .null : .int(y == -1 ? 0 : x % y)
        case .bitAnd: return .int(x & y)
        case .bitOr: return .int(x | y)
        case .bitXor: return .int(x ^ y)
        case .shiftLeft: return .int(y < 0 || y >= 64 ? 0 : x << y)
        case .shiftRight: return .int(y < 0 || y >= 64 ? (x < 0 ? -1 : 0) : x >> y)
        default: return .null
        }
    }

    /// `==` and friends: NULL equals only NULL; int vs numeric string compares numerically,
    /// otherwise as strings.
    static func compare(_ op: BinaryOp, _ a: ScriptValue, _ b: ScriptValue) -> Bool {
        let order: Int
        switch (a, b) {
        case (.null, .null): order = 0
        case (.null, _), (_, .null):
            switch op {
            case .equal: return false
            case .notEqual: return true
            default: return false
            }
        case (.int(let x), .int(let y)): order = x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let x), .string(let y)): order = x < y ? -1 : (x == y ? 0 : 1)
        case (.int(let x), .string(let s)):
            if let y = Int(s) { order = x < y ? -1 : (x == y ? 0 : 1) }
            else { let xs = String(x); order = xs < s ? -1 : (xs == s ? 0 : 1) }
        case (.string(let s), .int(let y)):
            if let x = Int(s) { order = x < y ? -1 : (x == y ? 0 : 1) }
            else { let ys = String(y); order = s < ys ? -1 : (s == ys ? 0 : 1) }
        }
        switch op {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .greater: return order > 0
        case .lessEqual: return order <= 0
        case .greaterEqual: return order >= 0
        default: return false
        }
    }
}
