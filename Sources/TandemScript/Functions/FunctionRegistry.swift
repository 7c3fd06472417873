/// The set of functions known to Tandem scripts, by name and by `FunctionID`.
public struct FunctionRegistry: Sendable {
    public let specs: [FunctionSpec]
    private let byName: [String: Int]

    public init(_ specs: [FunctionSpec]) {
        self.specs = specs
        var d: [String: Int] = [:]
        for (i, s) in specs.enumerated() { d[s.name] = i }
        self.byName = d
    }

    public func id(named name: String) -> FunctionID? { byName[name].map { FunctionID(rawValue: $0) } }
    public func spec(named name: String) -> FunctionSpec? { byName[name].map { specs[$0] } }
    public subscript(id: FunctionID) -> FunctionSpec { specs[id.rawValue] }

    /// Core, message, cache and proxy functions plus the host-run (async-capable) stubs.
    public static let standard = FunctionRegistry(
        CoreFunctions.specs + URIFunctions.specs + MessageFunctions.specs + TextFunctions.specs
            + CacheFunctions.specs + ProxyFunctions.specs + RegistrarFunctions.specs + NathelperFunctions.specs + AuthFunctions.specs + BranchFunctions.specs + HeaderMatchFunctions.specs
            + ExternalFunctions.specs)
}
