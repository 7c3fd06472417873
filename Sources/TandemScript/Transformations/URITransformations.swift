/// The parts of a SIP/SIPS/TEL URI as `uri.*` transformations see them.
struct URIParts: Sendable {
    var scheme = ""
    var user = ""
    var password = ""
    var host = ""
    var port = ""
    var params = ""
    var headers = ""

    /// Splits `scheme:user:password@host:port;params?headers`; nil when there is no scheme.
    init?(_ text: String) {
        var s = Substring(text.trimmingSpaces())
        if s.first == "<", s.last == ">" { s = s.dropFirst().dropLast() }
        guard let colon = s.firstIndex(of: ":"), colon > s.startIndex,
              s[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") })
        else { return nil }
        scheme = String(s[..<colon])
        var rest = s[s.index(after: colon)...]
        if let q = rest.firstIndex(of: "?") {
            headers = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            if let pc = userinfo.firstIndex(of: ":") {
                user = String(userinfo[..<pc])
                password = String(userinfo[userinfo.index(after: pc)...])
            } else {
                user = String(userinfo)
            }
            rest = rest[rest.index(after: at)...]
        } else if scheme.lowercased() == "tel" {
            // tel:+123;phone-context=x: the number is the user part.
            let end = rest.firstIndex(of: ";") ?? rest.endIndex
            user = String(rest[..<end])
            params = end < rest.endIndex ? String(rest[rest.index(after: end)...]) : ""
            return
        }
        if let semi = rest.firstIndex(of: ";") {
            params = String(rest[rest.index(after: semi)...])
            rest = rest[..<semi]
        }
        if rest.first == "[", let close = rest.firstIndex(of: "]") {
            host = String(rest[...close])
            let after = rest[rest.index(after: close)...]
            if after.first == ":" { port = String(after.dropFirst()) }
        } else if let pc = rest.lastIndex(of: ":") {
            host = String(rest[..<pc])
            port = String(rest[rest.index(after: pc)...])
        } else {
            host = String(rest)
        }
    }
}

/// `;`-separated `name[=value]` lists (URI parameters, header parameters, `param.*`).
enum ParamList {
    static func items(_ text: String, separator: Character = ";") -> [(name: String, value: String)] {
        var t = Substring(text)
        while t.first == separator || t.first == " " { t = t.dropFirst() }
        guard !t.isEmpty else { return [] }
        return t.split(separator: separator, omittingEmptySubsequences: true).map { item in
            if let eq = item.firstIndex(of: "=") {
                return (String(item[..<eq]).trimmingSpaces(), String(item[item.index(after: eq)...]).trimmingSpaces())
            }
            return (String(item).trimmingSpaces(), "")
        }
    }

    static func value(_ text: String, _ name: String, separator: Character = ";") -> String? {
        let n = name.lowercased()
        return items(text, separator: separator).first { $0.name.lowercased() == n }?.value
    }
}

/// The `uri.*` transformations.
enum URITransformations {
    /// Parameters with their own `uri.*` transformation (the rest are `uri.uparams`).
    static let knownParams: Set<String> = ["transport", "ttl", "user", "method", "maddr", "lr", "r2", "gr"]

    private static func part(_ get: @escaping @Sendable (URIParts) -> String) -> TransformDefinition {
        TransformDefinition { v, _ in
            guard let u = URIParts(StringTransformations.text(v)) else { return .null }
            return .string(get(u))
        }
    }

    private static func param(_ name: String) -> TransformDefinition {
        part { ParamList.value($0.params, name) ?? "" }
    }

    static let all: [String: TransformDefinition] = [
        "uri.user": part(\.user),
        "uri.passwd": part(\.password),
        "uri.host": part(\.host),
        "uri.port": part(\.port),
        "uri.params": part(\.params),
        "uri.headers": part(\.headers),
        "uri.schema": part(\.scheme),
        "uri.transport": param("transport"),
        "uri.ttl": param("ttl"),
        "uri.maddr": param("maddr"),
        "uri.method": param("method"),
        "uri.lr": param("lr"),
        "uri.r2": param("r2"),
        "uri.uparams": part { u in
            ParamList.items(u.params).filter { !knownParams.contains($0.name.lowercased()) }
                .map { $0.value.isEmpty ? $0.name : "\($0.name)=\($0.value)" }.joined(separator: ";")
        },
        "uri.param": TransformDefinition(args: 1...1) { v, a in
            guard let u = URIParts(StringTransformations.text(v)) else { return .null }
            return .string(ParamList.value(u.params, StringTransformations.text(a[0])) ?? "")
        },
    ]
}
