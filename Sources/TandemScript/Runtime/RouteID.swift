/// Index of a compiled route inside a `Script`.
public struct RouteID: Sendable, Hashable {
    public let rawValue: Int
    public let kind: RouteKind
}

/// Index of a function in a `FunctionRegistry`.
public struct FunctionID: Sendable, Hashable {
    public let rawValue: Int
}
