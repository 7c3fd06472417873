/// A name-addr (`"Alice" <sip:alice@example.com>;tag=1`) split for `nameaddr.*`, in place over the
/// value's UTF-8 bytes (only the part asked for becomes a String).
struct NameAddr {
    private let b: UnsafeBufferPointer<UInt8>
    /// Display name as written (quotes kept), trimmed.
    private(set) var name = 0..<0
    private(set) var uri = 0..<0
    /// Length of the name-addr up to and including `>` (the URI alone without brackets).
    private(set) var length = 0
    /// Parameters after the name-addr, without the leading `;`.
    private(set) var params = 0..<0

    func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }

    /// Runs `body` on the name-addr in `value`; `.null` when it is not one.
    static func with(_ value: ScriptValue, _ body: (NameAddr) -> ScriptValue) -> ScriptValue {
        StringTransformations.withBytes(value) { buf in
            var nameAddr = NameAddr(unsplit: buf)
            return nameAddr.split() ? body(nameAddr) : .null
        }
    }

    /// The value `b`, not split yet.
    init(unsplit b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private func trimmed(_ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi && (b[lo] == 32 || b[lo] == 9) { lo += 1 }
        while hi > lo && (b[hi - 1] == 32 || b[hi - 1] == 9) { hi -= 1 }
        return lo..<hi
    }

    /// Splits the name-addr in place; false when there is no URI.
    mutating func split() -> Bool {
        // The first `<` outside a quoted display name, then the first `>` after it.
        var i = b.count
        var inQuote = false
        _ = ByteScan.forEach(b, from: 0, to: b.count, 34, 60, 60) { k, c in // " <
            if c == 34 {
                if k == 0 || b[k - 1] != 92 { inQuote.toggle() }
                return true
            }
            if inQuote { return true }
            i = k
            return false
        }
        if i < b.count {
            var close = -1
            _ = ByteScan.forEach(b, from: i + 1, to: b.count, 62, 62, 62) { k, _ in close = k; return false } // >
            guard close >= 0 else { return false }
            name = trimmed(0..<i)
            uri = trimmed((i + 1)..<close)
            length = close + 1
            var rest = trimmed((close + 1)..<b.count)
            if rest.lowerBound < rest.upperBound && b[rest.lowerBound] == 59 { rest = (rest.lowerBound + 1)..<rest.upperBound }
            params = trimmed(rest)
        } else {
            let all = trimmed(0..<b.count)
            let semi = b[all].firstIndex(of: 59) ?? all.upperBound
            uri = trimmed(all.lowerBound..<semi)
            guard !uri.isEmpty else { return false }
            length = semi
            if semi < all.upperBound { params = trimmed((semi + 1)..<all.upperBound) }
        }
        return true
    }

    func param(_ key: [UInt8]) -> String? {
        ParamList.value(b[params], key).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The `nameaddr.*` transformations.
enum NameAddrTransformations {
    private static func part(_ get: @escaping @Sendable (NameAddr) -> ScriptValue) -> TransformDefinition {
        TransformDefinition { v, _ in NameAddr.with(v, get) }
    }

    static let all: [String: TransformDefinition] = [
        "nameaddr.name": TransformDefinition(picker: .nameAddrName),
        "nameaddr.uri": TransformDefinition(picker: .nameAddrURI),
        "nameaddr.len": part { .int($0.length) },
        "nameaddr.params": TransformDefinition(picker: .nameAddrParams),
        "nameaddr.param": TransformDefinition(args: 1...1) { c in
            let constantKey = c[0].map { Array($0.stringValue.utf8) }
            return .success { v, a in
                let key = constantKey ?? Array(StringTransformations.text(a[0]).utf8)
                return NameAddr.with(v) { .string($0.param(key) ?? "") }
            }
        },
    ]
}
