/// A Via header value (`SIP/2.0/UDP host:port;branch=z9hG4bK1;rport (comment)`) split for `via.*`,
/// on UTF-8 bytes.
struct ViaParts: Sendable {
    private let b: [UInt8]
    private(set) var name = 0..<0, version = 0..<0, transport = 0..<0, host = 0..<0, port = 0..<0
    private(set) var params = 0..<0, comment = 0..<0

    func text(_ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }

    private static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 }

    private func trimmed(_ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi && ViaParts.isSpace(b[lo]) { lo += 1 }
        while hi > lo && ViaParts.isSpace(b[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    /// Parses the first Via body of the value (a comma starts the next one).
    init?(_ value: String) {
        b = Array(value.utf8)
        var end = b.firstIndex(of: 44) ?? b.count // ,
        if let open = b[..<end].firstIndex(of: 40), let close = b[open..<end].lastIndex(of: 41) { // ( )
            comment = (open + 1)..<close
            end = open
        }
        var i = 0
        while i < end && ViaParts.isSpace(b[i]) { i += 1 }
        let protoStart = i
        while i < end && !ViaParts.isSpace(b[i]) { i += 1 }
        let proto = protoStart..<i
        guard let s1 = b[proto].firstIndex(of: 47), let s2 = b[(s1 + 1)..<proto.upperBound].firstIndex(of: 47) else { return nil }
        name = protoStart..<s1
        version = (s1 + 1)..<s2
        transport = (s2 + 1)..<proto.upperBound
        var hostEnd = end
        if let semi = b[i..<end].firstIndex(of: 59) {
            hostEnd = semi
            params = (semi + 1)..<end
        }
        params = trimmed(params)
        let hp = trimmed(i..<hostEnd)
        guard !hp.isEmpty else { return nil }
        if b[hp.lowerBound] == 91, let close = b[hp].firstIndex(of: 93) {
            host = hp.lowerBound..<(close + 1)
            if close + 1 < hp.upperBound && b[close + 1] == 58 { port = (close + 2)..<hp.upperBound }
        } else if let colon = b[hp].lastIndex(of: 58) {
            host = hp.lowerBound..<colon
            port = (colon + 1)..<hp.upperBound
        } else {
            host = hp
        }
    }

    func param(_ key: [UInt8]) -> String? {
        ParamList.value(b[params], key).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The `via.*` transformations.
enum ViaTransformations {
    private static func part(_ get: @escaping @Sendable (ViaParts) -> Range<Int>) -> TransformDefinition {
        TransformDefinition { v, _ in ViaParts(StringTransformations.text(v)).map { .string($0.text(get($0))) } ?? .null }
    }

    private static func param(_ name: String) -> TransformDefinition {
        let key = Array(name.utf8)
        return TransformDefinition { v, _ in ViaParts(StringTransformations.text(v)).map { .string($0.param(key) ?? "") } ?? .null }
    }

    static let all: [String: TransformDefinition] = [
        "via.name": part { $0.name },
        "via.version": part { $0.version },
        "via.transport": part { $0.transport },
        "via.host": part { $0.host },
        "via.port": part { $0.port },
        "via.comment": part { $0.comment },
        "via.params": part { $0.params },
        "via.branch": param("branch"),
        "via.received": param("received"),
        "via.rport": param("rport"),
        "via.param": TransformDefinition(args: 1...1) { v, a in
            guard let via = ViaParts(StringTransformations.text(v)) else { return .null }
            return .string(via.param(Array(StringTransformations.text(a[0]).utf8)) ?? "")
        },
    ]
}
