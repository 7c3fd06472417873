/// Query text compiled by the script with `$1…$n` placeholders for its pseudo-variables (see
/// `ArgKind.query`), filled in by drivers whose protocol has no bound parameters, each value
/// escaped for where it lands (JSON string content for MongoDB, RFC 4515 for LDAP filters).
enum QueryTemplate {
    /// Replaces `$1…$n` in `template` with `escape(values[n-1])`; other `$` text is kept.
    static func fill(_ template: String, values: [String?], escape: (String) -> String) -> String {
        var out = ""
        var scalars = template.unicodeScalars[...]
        while let c = scalars.popFirst() {
            guard c == "$", let first = scalars.first, first.properties.numericType != nil,
                  ("0"..."9").contains(first) else {
                out.unicodeScalars.append(c)
                continue
            }
            var digits = ""
            while let d = scalars.first, ("0"..."9").contains(d) {
                digits.unicodeScalars.append(d)
                scalars.removeFirst()
            }
            if let n = Int(digits), n >= 1, n <= values.count {
                out += escape(values[n - 1] ?? "")
            } else {
                out += "$" + digits
            }
        }
        return out
    }

    /// JSON string content: quotes, backslashes and control characters escaped.
    static func jsonEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// RFC 4515 value escaping for LDAP filters: `*`, `(`, `)`, `\` and NUL as `\XX`.
    static func ldapFilterEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "*": out += "\\2a"
            case "(": out += "\\28"
            case ")": out += "\\29"
            case "\\": out += "\\5c"
            case "\0": out += "\\00"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
