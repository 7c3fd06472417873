/// A name-addr (`"Alice" <sip:alice@example.com>;tag=1`) split for `nameaddr.*`.
struct NameAddr: Sendable {
    /// Display name as written (quotes kept), trimmed.
    var name: String
    var uri: String
    /// Length of the name-addr up to and including `>` (the URI alone without brackets).
    var length: Int
    /// Parameters after the name-addr, without the leading `;`.
    var params: String

    init?(_ text: String) {
        let b = Array(text.utf8)
        var i = 0
        var inQuote = false
        while i < b.count {
            if b[i] == 34 && (i == 0 || b[i - 1] != 92) { inQuote.toggle() }
            if !inQuote && b[i] == 60 { break }
            i += 1
        }
        func str(_ s: ArraySlice<UInt8>) -> String { String(decoding: s, as: UTF8.self) }
        if i < b.count {
            guard let close = b[i...].firstIndex(of: 62) else { return nil }
            name = str(b[..<i]).trimmingSpaces()
            uri = str(b[(i + 1)..<close]).trimmingSpaces()
            length = close + 1
            var rest = b[(close + 1)...].drop { $0 == 32 || $0 == 9 }
            if rest.first == 59 { rest = rest.dropFirst() }
            params = str(rest).trimmingSpaces()
        } else {
            name = ""
            let start = b.firstIndex { $0 != 32 && $0 != 9 } ?? b.count
            let semi = b[start...].firstIndex(of: 59) ?? b.count
            uri = str(b[start..<semi]).trimmingSpaces()
            guard !uri.isEmpty else { return nil }
            length = semi
            params = semi < b.count ? str(b[(semi + 1)...]).trimmingSpaces() : ""
        }
    }
}

/// The `nameaddr.*` transformations.
enum NameAddrTransformations {
    private static func part(_ get: @escaping @Sendable (NameAddr) -> ScriptValue) -> TransformDefinition {
        TransformDefinition { v, _ in NameAddr(StringTransformations.text(v)).map(get) ?? .null }
    }

    static let all: [String: TransformDefinition] = [
        "nameaddr.name": part { .string($0.name) },
        "nameaddr.uri": part { .string($0.uri) },
        "nameaddr.len": part { .int($0.length) },
        "nameaddr.params": part { .string($0.params) },
        "nameaddr.param": TransformDefinition(args: 1...1) { v, a in
            guard let n = NameAddr(StringTransformations.text(v)) else { return .null }
            return ParamList.value(n.params, StringTransformations.text(a[0])).map { .string($0) } ?? .string("")
        },
    ]
}
