/// Query text compiled by the script with `$1…$n` placeholders for its pseudo-variables (see
/// `ArgKind.query`), filled in by drivers whose protocol has no bound parameters, each value
/// escaped by the driver's own escaper (`MongoJSON.escape`, `LDAPFilter.escape`).
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
}
