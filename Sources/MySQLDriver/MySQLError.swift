/// A configuration error of the MySQL driver (bad `mysql://` URL, unresolvable host).
public struct MySQLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { "mysql: \(message)" }
}
