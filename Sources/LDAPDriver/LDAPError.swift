/// A configuration or input error of the ldap driver (bad session parameters, malformed LDAP URL,
/// unresolvable server host).
public struct LDAPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { "ldap: \(message)" }
}
