/// The kinds of route blocks an OpenSIPS 3.x script can declare.
public enum RouteKind: String, Sendable, Hashable, CaseIterable {
    case request = "route"
    case failure = "failure_route"
    case onReply = "onreply_route"
    case branch = "branch_route"
    case startup = "startup_route"
    case timer = "timer_route"
    case error = "error_route"
    case local = "local_route"
    case event = "event_route"

    /// Bit used in `RouteKindSet`.
    var bit: UInt16 { 1 << UInt16(RouteKind.allCases.firstIndex(of: self)!) }
}

/// A set of route kinds (where a function may be called).
public struct RouteKindSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ kinds: [RouteKind]) { self.rawValue = kinds.reduce(0) { $0 | $1.bit } }

    public func contains(_ kind: RouteKind) -> Bool { rawValue & kind.bit != 0 }

    public static let all = RouteKindSet(RouteKind.allCases)
    /// Routes that have a SIP message.
    public static let message = RouteKindSet([.request, .failure, .onReply, .branch, .error, .local])
    public static let requestLike = RouteKindSet([.request, .failure, .branch, .error, .local])
}

/// A parsed script file.
public struct ScriptAST: Sendable {
    public var items: [TopLevelItem]
}

/// One top-level declaration.
public enum TopLevelItem: Sendable {
    case global(GlobalParam)
    case loadModule(name: String, location: SourceLocation)
    case modparam(ModParamDecl)
    case route(RouteBlock)
}

/// Value of a global parameter or modparam.
public enum ConfigValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case string(String)
    /// Unquoted text such as `udp:127.0.0.1:5060`, `yes` or `off`.
    case word(String)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .string(let s), .word(let s): return s
        }
    }

    /// Integer reading (`yes`/`on`/`true` = 1, `no`/`off`/`false` = 0).
    public var intValue: Int? {
        switch self {
        case .int(let v): return v
        case .string(let s), .word(let s):
            switch s.lowercased() {
            case "yes", "on", "true": return 1
            case "no", "off", "false": return 0
            default: return Int(s)
            }
        }
    }
}

/// `name = value` at top level.
public struct GlobalParam: Sendable {
    public var name: String
    public var value: ConfigValue
    public var location: SourceLocation
}

/// `modparam("module", "param", value)`.
public struct ModParamDecl: Sendable {
    public var module: String
    public var param: String
    public var value: ConfigValue
    public var location: SourceLocation
}

/// A `route`, `failure_route[...]`, ... block.
public struct RouteBlock: Sendable {
    public var kind: RouteKind
    public var name: String?
    /// Interval for `timer_route[name, seconds]`.
    public var interval: Int?
    public var body: [Statement]
    public var location: SourceLocation
}

/// Assignment operators.
public enum AssignOp: String, Sendable {
    case assign = "=", add = "+=", subtract = "-=", colonAssign = ":="
    case multiply = "*=", divide = "/=", modulo = "%=", bitAnd = "&=", bitOr = "|=", bitXor = "^="
}

/// A statement with its position.
public struct Statement: Sendable {
    public var kind: StatementKind
    public var location: SourceLocation
}

/// Case label (`nil` label = `default`).
public struct SwitchCase: Sendable {
    public var label: Expr?
    public var body: [Statement]
    public var location: SourceLocation
}

/// A function call `name(args...)`.
public struct FunctionCall: Sendable {
    public var name: String
    public var args: [Expr]
    public var location: SourceLocation
}

/// A reference to a pseudo-variable in source.
public struct PVRef: Sendable {
    public var spec: PVSpec
    public var location: SourceLocation
}

/// Statement forms.
public indirect enum StatementKind: Sendable {
    case call(FunctionCall)
    case routeCall(name: String, args: [Expr])
    case assign(target: PVRef, op: AssignOp, value: Expr)
    case ifElse(condition: Expr, then: [Statement], otherwise: [Statement]?)
    case whileLoop(condition: Expr, body: [Statement])
    /// `for ($var(x) in $(avp(y)[*])) { ... }`: the body runs once per value, newest first.
    case forEach(variable: PVRef, values: PVRef, body: [Statement])
    case switchBlock(subject: Expr, cases: [SwitchCase])
    case breakStatement
    case exit
    case drop
    case returnStatement(Expr?)
    case async(call: FunctionCall, resumeRoute: String, resumeLocation: SourceLocation, timeout: Expr?)
    case launch(call: FunctionCall, reportRoute: String?, reportLocation: SourceLocation?, param: Expr?)
    case block([Statement])
}

/// Binary operators, C-like.
public enum BinaryOp: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    case bitAnd = "&", bitOr = "|", bitXor = "^", shiftLeft = "<<", shiftRight = ">>"
    case equal = "==", notEqual = "!=", less = "<", greater = ">", lessEqual = "<=", greaterEqual = ">="
    case match = "=~", noMatch = "!~"
    case and = "&&", or = "||"
}

/// Unary operators.
public enum UnaryOp: String, Sendable {
    case not = "!", bitNot = "~", negate = "-"
}

/// An expression with its position.
public struct Expr: Sendable {
    public var kind: ExprKind
    public var location: SourceLocation
}

/// Expression forms.
public indirect enum ExprKind: Sendable {
    case int(Int)
    case string(String)
    case null
    case pv(PVRef)
    /// Bare identifier (`L_INFO`, a route name, `uri`, `method`...).
    case word(String)
    case myself
    case binary(BinaryOp, Expr, Expr)
    case unary(UnaryOp, Expr)
    case call(FunctionCall)
    case routeCall(name: String, args: [Expr])
    /// An IP address or network literal; `==` against it means "is in this network".
    case address(IPNetwork, text: String)
    /// A left-out positional argument (`f(a, , c)`): the optional parameter is not given.
    case omitted
    /// A host name literal (`backup.example.com`) compared with an address: `==` means "is one of the
    /// addresses the name resolves to" (resolved when the script is loaded).
    case hostName(String)
}
