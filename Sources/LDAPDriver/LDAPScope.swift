import CLDAP

/// The scope of an LDAP search (RFC 4516 `base` / `one` / `sub`).
public enum LDAPScope: String, Sendable, Equatable, CaseIterable {
    /// The base object only.
    case base
    /// The immediate children of the base.
    case one
    /// The base and its whole subtree.
    case sub

    /// Parses a scope name (case-insensitive; `onelevel`/`subtree` accepted too). Empty → ``base``.
    public init?(name: some StringProtocol) {
        switch name.lowercased() {
        case "", "base": self = .base
        case "one", "onelevel": self = .one
        case "sub", "subtree": self = .sub
        default: return nil
        }
    }

    /// The libldap constant.
    var code: Int32 {
        switch self {
        case .base: return LDAP_SCOPE_BASE
        case .one: return LDAP_SCOPE_ONELEVEL
        case .sub: return LDAP_SCOPE_SUBTREE
        }
    }
}
