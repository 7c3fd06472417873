/// Helpers for RFC 4515 search filters.
public enum LDAPFilter {
    /// Escapes `value` for use as an assertion value inside a filter (`(uid=VALUE)`): `*`, `(`, `)`,
    /// `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00` (RFC 4515 section 3), so the value is matched
    /// literally and cannot add filter components or wildcards. `%` and `?` are escaped too (`\25`,
    /// `\3f`, equally valid RFC 4515 escapes) so that the result can be placed into an LDAP URL
    /// (``LDAPURL``) without percent-decoding or the `?` separators touching it.
    public static func escape(_ value: String) -> String {
        var needs = false
        for byte in value.utf8 where isSpecial(byte) {
            needs = true
            break
        }
        guard needs else { return value }
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            if isSpecial(byte) {
                out.append(UInt8(ascii: "\\"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case 0, UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"),
             UInt8(ascii: "%"), UInt8(ascii: "?"):
            return true
        default:
            return false
        }
    }
}
