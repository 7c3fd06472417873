/// What a function argument must be, checked at compile time.
public enum ArgKind: Sendable, Hashable {
    /// String literal (with pseudo-variable interpolation) or pseudo-variable.
    case string
    /// Integer literal, numeric string or pseudo-variable.
    case int
    /// Any literal or pseudo-variable.
    case any
    /// A writable pseudo-variable that receives a result.
    case variable
    /// String literal listing output variables, `"$avp(a);$avp(b)"` (passed as text, not interpolated).
    case variableList
    /// Database query text: its pseudo-variables become bound parameters (`$1`, `$2`…), never
    /// interpolated into the query, so a value cannot widen it.
    case query
    /// `NAME/$pv` as ldap_result takes it (passed as text, not interpolated).
    case attributeMap
    /// Name of a route of this kind (bare word or string).
    case route(RouteKind)
    /// Flag number or name.
    case flag
    /// xlog level (`L_INFO`...) or pseudo-variable.
    case logLevel
}

/// An argument after compile-time binding.
enum BoundArg: Sendable {
    case value(ValueFn, constant: ScriptValue?)
    case route(RouteID)
    case variable(LValue)
    case flag(Int)
    case level(ScriptLogLevel)
}

typealias Binder = @Sendable (FunctionID, String, [BoundArg]) -> FunctionImpl

/// Declaration of a script function: arity, argument kinds, async capability and the route types
/// it may be called from. Used by the checker and to bind calls at compile time.
public struct FunctionSpec: Sendable {
    public let name: String
    /// The function exists when any of these modules is loaded; empty = core function.
    public let modules: [String]
    public let minArgs: Int
    public let maxArgs: Int
    /// Argument kinds; when `leadingOptional` is set, aligned to the last arguments (xlog).
    public let argKinds: [ArgKind]
    public let leadingOptional: Bool
    public let hasAsyncForm: Bool
    public let allowedRoutes: RouteKindSet
    /// Run by the host (`ScriptProxy.invoke`, or the async engine under async()/launch()) rather than
    /// by a binder: database, REST, exec, LDAP, sleeps.
    public let isHostRun: Bool
    /// A host-run function that, called plainly (outside `async()`/`launch()`) in a request or failure
    /// route, suspends the transaction while its operation runs and continues the route at the call
    /// with its return code, as `async()` would without a resume route (`www_authorize`,
    /// `proxy_authorize`). Opting a function in takes this one flag on its spec (plus its host binding,
    /// which runs the operation and delivers `$rc` and outputs exactly as under `async()`).
    public let suspendsTransparently: Bool
    /// The same decided by the script's settings (a registrar `lookup` only in `sql-only` mode, say): when
    /// it returns true the call is compiled as transparently suspending and goes to the host's binding
    /// of that name, like a host-run function, whatever `binder` the spec has.
    let transparentIf: (@Sendable (ScriptConfig) -> Bool)?
    /// nil for functions run by the host.
    let binder: Binder?

    init(_ name: String, modules: [String] = [], args: [ArgKind] = [], min: Int? = nil,
         leadingOptional: Bool = false, async: Bool = false, routes: RouteKindSet = .all,
         hostRun: Bool = false, transparent: Bool = false,
         transparentIf: (@Sendable (ScriptConfig) -> Bool)? = nil, binder: Binder?) {
        self.name = name
        self.modules = modules
        self.argKinds = args
        self.minArgs = min ?? args.count
        self.maxArgs = args.count
        self.leadingOptional = leadingOptional
        self.hasAsyncForm = async
        self.allowedRoutes = routes
        self.isHostRun = hostRun
        self.suspendsTransparently = transparent && hostRun
        self.transparentIf = transparentIf
        self.binder = binder
    }

    /// Whether a plain call suspends transparently with the script's settings `config`.
    public func suspendsTransparently(in config: ScriptConfig) -> Bool {
        suspendsTransparently || (transparentIf?(config) ?? false)
    }

    /// Kind expected for argument `i` of a call with `count` arguments.
    public func kind(ofArgument i: Int, count: Int) -> ArgKind {
        leadingOptional ? argKinds[argKinds.count - count + i] : argKinds[i]
    }
}

/// Helpers to read bound arguments inside binders.
extension Array where Element == BoundArg {
    func value(_ i: Int) -> ValueFn {
        guard i < count else { return { _ in .null } }
        switch self[i] {
        case .value(let f, _): return f
        case .flag(let v): return { _ in .int(v) }
        case .level(let l): return { _ in .int(l.rawValue) }
        case .route, .variable: return { _ in .null }
        }
    }

    func constant(_ i: Int) -> ScriptValue? {
        guard i < count, case .value(_, let c) = self[i] else { return nil }
        return c
    }

    func route(_ i: Int) -> RouteID? {
        guard i < count, case .route(let r) = self[i] else { return nil }
        return r
    }

    func variable(_ i: Int) -> LValue? {
        guard i < count, case .variable(let v) = self[i] else { return nil }
        return v
    }
}
