/// A Via header value (`SIP/2.0/UDP host:port;branch=z9hG4bK1;rport (comment)`) split for `via.*`.
struct ViaParts: Sendable {
    var name = "", version = "", transport = "", host = "", port = "", params = "", comment = ""

    /// Parses the first Via body of the value (a comma starts the next one).
    init?(_ text: String) {
        var s = Substring(text.trimmingSpaces())
        if let comma = s.firstIndex(of: ",") { s = s[..<comma] }
        if let open = s.firstIndex(of: "("), let close = s.lastIndex(of: ")"), open < close {
            comment = String(s[s.index(after: open)..<close])
            s = s[..<open]
        }
        let proto = s.prefix { $0 != " " && $0 != "\t" }
        let fields = proto.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 3 else { return nil }
        name = String(fields[0]).trimmingSpaces()
        version = String(fields[1]).trimmingSpaces()
        transport = String(fields[2]).trimmingSpaces()
        var rest = s[proto.endIndex...].drop { $0 == " " || $0 == "\t" }
        if let semi = rest.firstIndex(of: ";") {
            params = String(rest[rest.index(after: semi)...]).trimmingSpaces()
            rest = rest[..<semi]
        }
        let hostport = String(rest).trimmingSpaces()
        guard !hostport.isEmpty else { return nil }
        if hostport.hasPrefix("["), let close = hostport.firstIndex(of: "]") {
            host = String(hostport[...close])
            let after = hostport[hostport.index(after: close)...]
            if after.first == ":" { port = String(after.dropFirst()) }
        } else if let colon = hostport.lastIndex(of: ":") {
            host = String(hostport[..<colon])
            port = String(hostport[hostport.index(after: colon)...])
        } else {
            host = hostport
        }
    }
}

/// The `via.*` transformations.
enum ViaTransformations {
    private static func part(_ get: @escaping @Sendable (ViaParts) -> String) -> TransformDefinition {
        TransformDefinition { v, _ in ViaParts(StringTransformations.text(v)).map { .string(get($0)) } ?? .null }
    }

    private static func param(_ name: String) -> TransformDefinition {
        part { ParamList.value($0.params, name) ?? "" }
    }

    static let all: [String: TransformDefinition] = [
        "via.name": part(\.name),
        "via.version": part(\.version),
        "via.transport": part(\.transport),
        "via.host": part(\.host),
        "via.port": part(\.port),
        "via.comment": part(\.comment),
        "via.params": part(\.params),
        "via.branch": param("branch"),
        "via.received": param("received"),
        "via.rport": param("rport"),
        "via.param": TransformDefinition(args: 1...1) { v, a in
            guard let via = ViaParts(StringTransformations.text(v)) else { return .null }
            return .string(ParamList.value(via.params, StringTransformations.text(a[0])) ?? "")
        },
    ]
}
