/// Compiled route bodies, indexed by `RouteID.rawValue`.
///
/// `@unchecked Sendable`: `bodies` is filled by the compiler before the owning `Script` is created
/// and never mutated afterwards, so concurrent reads from workers are safe.
final class RouteTable: @unchecked Sendable {
    var bodies: [StmtBox] = []
}

/// A timer route and its interval in seconds.
public struct TimerRoute: Sendable {
    public var route: RouteID
    public var name: String
    public var interval: Int
}

/// A checked and compiled routing script: immutable, shared by all workers.
public final class Script: Sendable {
    public let config: ScriptConfig
    public let registry: FunctionRegistry
    /// (kind, name) of every route; index = `RouteID.rawValue`.
    public let routeNames: [(kind: RouteKind, name: String)]
    public let mainRoute: RouteID
    public let mainReplyRoute: RouteID?
    public let startupRoute: RouteID?
    public let errorRoute: RouteID?
    public let localRoute: RouteID?
    public let timerRoutes: [TimerRoute]
    /// Log names of the routes, by `RouteID.rawValue`: `request` for the main route, `route[x]`,
    /// `failure_route[x]`, `onreply_route` / `onreply_route[x]`, `startup_route`, `timer_route[x]`, ….
    public let routeLabels: [String]
    /// `$var` names by slot.
    public let varNames: [String]
    /// `$avp` names by slot (`AVPStore` slot numbers).
    public let avpNames: [String]
    /// Named flags (setflag(NAME)) → bit number.
    public let flagBits: [String: Int]
    let table: RouteTable
    let hostNameTable: HostNameTable
    private let routeIndex: [RouteKey: Int]
    private let avpIndex: [String: Int]

    init(config: ScriptConfig, registry: FunctionRegistry, routeNames: [(kind: RouteKind, name: String)],
         table: RouteTable, timerRoutes: [TimerRoute], varNames: [String], avpNames: [String],
         flagBits: [String: Int], hostNames: HostNameTable = HostNameTable()) {
        self.hostNameTable = hostNames
        self.config = config
        self.registry = registry
        self.routeNames = routeNames
        self.routeLabels = routeNames.map { route in
            if route.name.isEmpty { return route.kind == .request ? "request" : route.kind.rawValue }
            return "\(route.kind.rawValue)[\(route.name)]"
        }
        self.table = table
        self.timerRoutes = timerRoutes
        self.varNames = varNames
        self.avpNames = avpNames
        self.flagBits = flagBits
        var idx: [RouteKey: Int] = [:]
        for (i, r) in routeNames.enumerated() { idx[RouteKey(kind: r.kind, name: r.name)] = i }
        self.routeIndex = idx
        var a: [String: Int] = [:]
        for (i, n) in avpNames.enumerated() { a[n] = i }
        self.avpIndex = a
        func find(_ k: RouteKind, _ n: String) -> RouteID? { idx[RouteKey(kind: k, name: n)].map { RouteID(rawValue: $0, kind: k) } }
        self.mainRoute = find(.request, "") ?? RouteID(rawValue: 0, kind: .request)
        self.mainReplyRoute = find(.onReply, "")
        self.startupRoute = find(.startup, "")
        self.errorRoute = find(.error, "")
        self.localRoute = find(.local, "")
    }

    /// Looks up a route by kind and name ("" for unnamed blocks).
    public func route(named name: String, kind: RouteKind = .request) -> RouteID? {
        routeIndex[RouteKey(kind: kind, name: name)].map { RouteID(rawValue: $0, kind: kind) }
    }

    /// The host names the script compares addresses with (`src_ip == backup.example.com`), lower-cased,
    /// each with where it is first written.
    public var hostNames: [(name: String, location: SourceLocation)] {
        Array(zip(hostNameTable.names, hostNameTable.locations))
    }

    /// Resolves every host name of ``hostNames`` with `resolve` (IP texts; unparsable ones are skipped)
    /// and returns those that got no address. Call once, before any worker runs the script: until then
    /// a host name matches only itself as text.
    @discardableResult
    public func resolveHostNames(_ resolve: (String) -> [String]) -> [(name: String, location: SourceLocation)] {
        var unresolved: [(name: String, location: SourceLocation)] = []
        for (slot, name) in hostNameTable.names.enumerated() {
            let addresses = resolve(name).compactMap { IPAddress($0) }
            hostNameTable.setAddresses(addresses, slot: slot)
            if addresses.isEmpty { unresolved.append((name, hostNameTable.locations[slot])) }
        }
        return unresolved
    }

    /// AVP slot of `$avp(name)`, for hosts writing async results.
    public func avpSlot(named name: String) -> Int? { avpIndex[name] }
}
