/// A search given as an RFC 4516 LDAP URL whose host part names a configured session instead of a
/// server: `ldap://session/dc=example,dc=com?cn,mail?sub?(uid=alice)`.
///
/// Grammar: `ldap://SESSION[/DN[?ATTRS[?SCOPE[?FILTER[?EXTENSIONS]]]]]`. The DN, every attribute and the
/// filter are percent-decoded; an empty scope is `base`, an empty filter `(objectClass=*)`, a filter
/// without enclosing parentheses gets them, and no attribute means "all user attributes".
/// Extensions are ignored unless marked critical (`!`), which is an error.
///
/// Values placed into the filter must be escaped with ``LDAPFilter/escape(_:)`` *before* the URL is
/// assembled: that escaping leaves no `%`, `?`, `(`, `)` or `*`, so neither percent-decoding nor the
/// `?` separators can change the structure of the search.
public struct LDAPURL: Sendable, Equatable {
    /// The session name (the URL's host part).
    public var session: String
    /// The search base DN (may be empty: the root DSE).
    public var base: String
    /// Requested attributes (empty: all user attributes).
    public var attributes: [String]
    /// The search scope.
    public var scope: LDAPScope
    /// The RFC 4515 filter string, with parentheses.
    public var filter: String

    /// Creates a search directly.
    public init(session: String, base: String, attributes: [String] = [], scope: LDAPScope = .sub,
                filter: String = "(objectClass=*)") {
        self.session = session
        self.base = base
        self.attributes = attributes
        self.scope = scope
        self.filter = filter
    }

    /// Parses `text` (see the type's documentation).
    public static func parse(_ text: String) throws(LDAPError) -> LDAPURL {
        let bytes = Array(text.utf8)
        let prefix = Array("ldap://".utf8)
        guard bytes.count >= prefix.count,
              zip(bytes[0..<prefix.count], prefix).allSatisfy({ lowercase($0) == $1 }) else {
            throw LDAPError("LDAP URL must start with ldap:// (got \"\(text)\")")
        }
        var rest = bytes[prefix.count...]
        let slash = rest.firstIndex(of: UInt8(ascii: "/"))
        let sessionBytes = rest[rest.startIndex..<(slash ?? rest.endIndex)]
        guard !sessionBytes.isEmpty else { throw LDAPError("LDAP URL has no session name: \"\(text)\"") }
        let session = String(decoding: sessionBytes, as: UTF8.self)
        rest = slash.map { rest[($0 + 1)...] } ?? rest[rest.endIndex...]

        let parts = rest.split(separator: UInt8(ascii: "?"), maxSplits: 4, omittingEmptySubsequences: false)
        let base = try decode(parts.count > 0 ? parts[0] : [])
        var attributes: [String] = []
        if parts.count > 1 {
            for attribute in parts[1].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
                let name = try decode(attribute)
                if !name.isEmpty { attributes.append(name) }
            }
        }
        let scopeText = parts.count > 2 ? try decode(parts[2]) : ""
        guard let scope = LDAPScope(name: scopeText) else {
            throw LDAPError("bad scope \"\(scopeText)\" in LDAP URL (base, one or sub)")
        }
        var filter = parts.count > 3 ? try decode(parts[3]) : ""
        if filter.isEmpty {
            filter = "(objectClass=*)"
        } else if !filter.hasPrefix("(") {
            filter = "(" + filter + ")"
        }
        if parts.count > 4 {
            for extensionText in parts[4].split(separator: UInt8(ascii: ",")) where extensionText.first == UInt8(ascii: "!") {
                throw LDAPError("unsupported critical extension \"\(String(decoding: extensionText, as: UTF8.self))\"")
            }
        }
        return LDAPURL(session: session, base: base, attributes: attributes, scope: scope, filter: filter)
    }

    private static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    /// Percent-decodes one component.
    private static func decode(_ component: ArraySlice<UInt8>) throws(LDAPError) -> String {
        guard component.contains(UInt8(ascii: "%")) else { return String(decoding: component, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(component.count)
        var index = component.startIndex
        while index < component.endIndex {
            let byte = component[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < component.endIndex,
                      let high = hexValue(component[index + 1]), let low = hexValue(component[index + 2]) else {
                    throw LDAPError("bad percent escape in LDAP URL component \"\(String(decoding: component, as: UTF8.self))\"")
                }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
