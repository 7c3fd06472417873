/// The parts of a SIP/SIPS/TEL URI as `uri.*` transformations see them, split in place over the
/// value's UTF-8 bytes (no copy: this runs on every use of the transformation; only the part asked
/// for becomes a String, and a short one needs no allocation).
struct URIParts {
    private let b: UnsafeBufferPointer<UInt8>
    private(set) var scheme = 0..<0
    private(set) var user = 0..<0
    private(set) var password = 0..<0
    private(set) var host = 0..<0
    private(set) var port = 0..<0
    private(set) var params = 0..<0
    private(set) var headers = 0..<0

    func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }

    /// Runs `body` on the parts of `value`'s URI; `.null` when it is not one (no scheme).
    static func with(_ value: ScriptValue, _ body: (URIParts) -> ScriptValue) -> ScriptValue {
        StringTransformations.withBytes(value) { buf in
            // Split in place in a local (a failable init would build the struct and copy it out).
            var parts = URIParts(unsplit: buf)
            return parts.split() ? body(parts) : .null
        }
    }

    /// The value `b`, not split yet (every part empty).
    init(unsplit b: UnsafeBufferPointer<UInt8>) { self.b = b }

    /// Splits `scheme:user:password@host:port;params?headers`; false when there is no scheme.
    mutating func split() -> Bool {
        var lo = 0, hi = b.count
        while lo < hi && (b[lo] == 32 || b[lo] == 9) { lo += 1 }
        while hi > lo && (b[hi - 1] == 32 || b[hi - 1] == 9) { hi -= 1 }
        if hi - lo >= 2 && b[lo] == 60 && b[hi - 1] == 62 { lo += 1; hi -= 1 } // <uri>
        var colon = lo
        while colon < hi && b[colon] != 58 {
            let c = b[colon]
            let ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 43 || c == 45 || c == 46
            if !ok { return false }
            colon += 1
        }
        guard colon > lo && colon < hi else { return false }
        scheme = lo..<colon
        var restStart = colon + 1
        var restEnd = hi
        // One pass up to `?`: the headers, the last `@` and the first `:` (user:password).
        var at = -1, firstColon = -1, question = -1
        _ = ByteScan.forEach(b, from: restStart, to: restEnd, 63, 64, 58) { k, c in // ? @ :
            if c == 63 { question = k; return false }
            if c == 64 { at = k } else if firstColon < 0 { firstColon = k }
            return true
        }
        if question >= 0 { headers = (question + 1)..<restEnd; restEnd = question }
        if at >= 0 {
            if firstColon >= 0 && firstColon < at {
                user = restStart..<firstColon
                password = (firstColon + 1)..<at
            } else {
                user = restStart..<at
            }
            restStart = at + 1
        }
        // One pass over host[:port] up to the first `;`: the last `:` and the first `]`.
        var semi = restEnd, lastColon = -1, close = -1
        _ = ByteScan.forEach(b, from: restStart, to: restEnd, 59, 58, 93) { k, c in // ; : ]
            if c == 59 { semi = k; return false }
            if c == 58 { lastColon = k } else if close < 0 { close = k }
            return true
        }
        if at < 0 && colon - lo == 3 && (b[lo] | 32) == 116 && (b[lo + 1] | 32) == 101 && (b[lo + 2] | 32) == 108 {
            // tel:+123;phone-context=x: the number is the user part.
            user = restStart..<semi
            if semi < restEnd { params = (semi + 1)..<restEnd }
            return true
        }
        if semi < restEnd { params = (semi + 1)..<restEnd }
        restEnd = semi
        if restStart < restEnd && b[restStart] == 91 && close >= 0 { // [v6]
            host = restStart..<(close + 1)
            if close + 1 < restEnd && b[close + 1] == 58 { port = (close + 2)..<restEnd }
        } else if lastColon >= 0 {
            host = restStart..<lastColon
            port = (lastColon + 1)..<restEnd
        } else {
            host = restStart..<restEnd
        }
        return true
    }

    /// The value of parameter `name` (case-insensitive name), "" for a flag parameter, nil if absent.
    func param(_ name: [UInt8]) -> String? {
        ParamList.value(b[params], name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Parameters other than `known`, as written.
    func otherParams(_ known: Set<String>) -> String {
        var out: [String] = []
        ParamList.forEach(b[params]) { n, v, whole in
            if !known.contains(String(decoding: n, as: UTF8.self).lowercased()) { out.append(String(decoding: whole, as: UTF8.self)) }
            _ = v
            return true
        }
        return out.joined(separator: ";")
    }
}

/// `;`-separated `name[=value]` lists (URI parameters, header parameters, `param.*`), on bytes.
enum ParamList {
    private static func trim<C: BidirectionalCollection<UInt8>>(_ s: C) -> C where C.SubSequence == C {
        var s = s
        while let f = s.first, f == 32 || f == 9 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 { s = s.dropLast() }
        return s
    }

    /// Calls `body(name, value, item)` for each non-empty item until it returns false.
    static func forEach<C: BidirectionalCollection<UInt8>>(_ list: C, separator: UInt8 = 59,
                                                           _ body: (C, C, C) -> Bool) where C.SubSequence == C {
        var i = list.startIndex
        while i < list.endIndex {
            let end = list[i...].firstIndex(of: separator) ?? list.endIndex
            let item = trim(list[i..<end])
            if !item.isEmpty {
                let name: C, value: C
                if let eq = item.firstIndex(of: 61) {
                    name = trim(item[..<eq])
                    value = trim(item[item.index(after: eq)...])
                } else {
                    name = item
                    value = item[item.endIndex...]
                }
                if !body(name, value, item) { return }
            }
            i = end == list.endIndex ? end : list.index(after: end)
        }
    }

    private static func sameName<C: Collection<UInt8>>(_ a: C, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = x >= 65 && x <= 90 ? x + 32 : x, ly = y >= 65 && y <= 90 ? y + 32 : y
            if lx != ly { return false }
        }
        return true
    }

    static func value<C: BidirectionalCollection<UInt8>>(_ list: C, _ name: [UInt8], separator: UInt8 = 59) -> C?
        where C.SubSequence == C {
        var found: C?
        forEach(list, separator: separator) { n, v, _ in
            if sameName(n, name) { found = v; return false }
            return true
        }
        return found
    }

    /// `value(_:_:separator:)` over raw bytes with index loops (the `param.value` path): the range of
    /// the value of parameter `name` in `b`, nil if absent.
    static func valueRange(_ b: UnsafeBufferPointer<UInt8>, _ name: [UInt8], separator: UInt8) -> Range<Int>? {
        func trimmed(_ lo: Int, _ hi: Int) -> Range<Int> {
            var lo = lo, hi = hi
            while lo < hi && (b[lo] == 32 || b[lo] == 9) { lo += 1 }
            while hi > lo && (b[hi - 1] == 32 || b[hi - 1] == 9) { hi -= 1 }
            return lo..<hi
        }
        let n = b.count
        var i = 0
        while i < n {
            var end = i
            while end < n && b[end] != separator { end += 1 }
            let item = trimmed(i, end)
            if !item.isEmpty {
                var eq = item.lowerBound
                while eq < item.upperBound && b[eq] != 61 { eq += 1 }
                let key = trimmed(item.lowerBound, eq)
                if key.count == name.count && sameName(b, key.lowerBound, name) {
                    return eq < item.upperBound ? trimmed(eq + 1, item.upperBound) : item.upperBound..<item.upperBound
                }
            }
            i = end == n ? end : end + 1
        }
        return nil
    }

    /// ASCII case-insensitive comparison of `name.count` bytes of `b` from `at` with `name`.
    private static func sameName(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ name: [UInt8]) -> Bool {
        for j in 0..<name.count {
            let x = b[at + j], y = name[j]
            if x != y && (x >= 65 && x <= 90 ? x + 32 : x) != (y >= 65 && y <= 90 ? y + 32 : y) { return false }
        }
        return true
    }

    static func items(_ text: String, separator: UInt8 = 59) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        forEach(Array(text.utf8)[...], separator: separator) { n, v, _ in
            out.append((String(decoding: n, as: UTF8.self), String(decoding: v, as: UTF8.self)))
            return true
        }
        return out
    }

    static func value(_ text: String, _ name: String, separator: UInt8 = 59) -> String? {
        value(Array(text.utf8)[...], Array(name.utf8), separator: separator).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The `uri.*` transformations.
enum URITransformations {
    /// Parameters with their own `uri.*` transformation (the rest are `uri.uparams`).
    static let knownParams: Set<String> = ["transport", "ttl", "user", "method", "maddr", "lr", "r2", "gr"]

    private static func param(_ name: String) -> TransformDefinition {
        let key = Array(name.utf8)
        return TransformDefinition { v, _ in URIParts.with(v) { .string($0.param(key) ?? "") } }
    }

    static let all: [String: TransformDefinition] = [
        "uri.user": TransformDefinition(picker: .uriUser),
        "uri.passwd": TransformDefinition(picker: .uriPassword),
        "uri.host": TransformDefinition(picker: .uriHost),
        "uri.port": TransformDefinition(picker: .uriPort),
        "uri.params": TransformDefinition(picker: .uriParams),
        "uri.headers": TransformDefinition(picker: .uriHeaders),
        "uri.schema": TransformDefinition(picker: .uriScheme),
        "uri.transport": param("transport"),
        "uri.ttl": param("ttl"),
        "uri.maddr": param("maddr"),
        "uri.method": param("method"),
        "uri.lr": param("lr"),
        "uri.r2": param("r2"),
        "uri.uparams": TransformDefinition { v, _ in URIParts.with(v) { .string($0.otherParams(knownParams)) } },
        "uri.param": TransformDefinition(args: 1...1) { c in
            // A constant name is turned into bytes once.
            if let name = c[0] {
                let key = Array(name.stringValue.utf8)
                return .success { v, _ in URIParts.with(v) { .string($0.param(key) ?? "") } }
            }
            return .success { v, a in
                let key = Array(StringTransformations.text(a[0]).utf8)
                return URIParts.with(v) { .string($0.param(key) ?? "") }
            }
        },
    ]
}
