/// A configuration error of the postgres driver (bad conninfo/URL, unresolvable host).
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { "postgres: \(message)" }
}
