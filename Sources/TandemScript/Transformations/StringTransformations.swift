/// The `s.*` transformations (OpenSIPS 3.6 string transformations).
enum StringTransformations {
    /// Text of a value; NULL reads as the empty string.
    static func text(_ v: ScriptValue) -> String {
        switch v {
        case .null: return ""
        case .int(let i): return String(i)
        case .string(let s): return s
        }
    }

    static func bytes(_ v: ScriptValue) -> [UInt8] { Array(text(v).utf8) }

    /// Runs `body` over the value's UTF-8 bytes in place (a native string is not copied).
    /// (A native or small string is read where it is, without the copy `withUTF8` needs as it mutates.)
    static func withBytes<R>(_ v: ScriptValue, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var s: String
        switch v {
        case .string(let t):
            if let r = t.utf8.withContiguousStorageIfAvailable(body) { return r }
            s = t
        case .int(let i): s = String(i)
        case .null: s = ""
        }
        return s.withUTF8(body)
    }

    /// `s.tolower`/`s.toupper`: the value itself when nothing changes, else one new string.
    static func mapCase(_ v: ScriptValue, from lo: UInt8, to hi: UInt8, shift: Int16) -> ScriptValue {
        withBytes(v) { src in
            guard src.contains(where: { $0 >= lo && $0 <= hi }) else {
                if case .string = v { return v }
                return .string(String(decoding: src, as: UTF8.self))
            }
            return .string(String(unsafeUninitializedCapacity: src.count) { dst in
                for i in 0..<src.count {
                    let c = src[i]
                    dst[i] = c >= lo && c <= hi ? UInt8(Int16(c) + shift) : c
                }
                return src.count
            })
        }
    }

    static func string(_ b: some Sequence<UInt8>) -> ScriptValue { .string(String(decoding: Array(b), as: UTF8.self)) }

    static let all: [String: TransformDefinition] = [
        "s.len": TransformDefinition { v, _ in Transformations.length(v) },
        "s.int": TransformDefinition { v, _ in .int(leadingInt(v)) },
        "s.tolower": TransformDefinition { v, _ in mapCase(v, from: 65, to: 90, shift: 32) },
        "s.toupper": TransformDefinition { v, _ in mapCase(v, from: 97, to: 122, shift: -32) },
        "s.reverse": TransformDefinition { v, _ in string(bytes(v).reversed()) },
        "s.trim": TransformDefinition { v, _ in string(trim(bytes(v), left: true, right: true)) },
        "s.trimr": TransformDefinition { v, _ in string(trim(bytes(v), left: false, right: true)) },
        "s.triml": TransformDefinition { v, _ in string(trim(bytes(v), left: true, right: false)) },
        "s.substr": TransformDefinition(args: 2...2) { c in
            if let e = Transformations.requireInts(c, [0, 1]) { return .failure(e) }
            return .success { v, a in
                withBytes(v) { substr($0, Transformations.int(a[0]) ?? 0, Transformations.int(a[1]) ?? 0) }
            }
        },
        "s.select": TransformDefinition(args: 2...2) { c in
            if let e = Transformations.requireInts(c, [0]) { return .failure(e) }
            if let sep = c[1], sep.stringValue.utf8.count != 1 {
                return .failure(TransformError(message: "the separator must be one character"))
            }
            return .success { v, a in
                guard let sep = bytes(a[1]).first else { return .null }
                return select(bytes(v), Transformations.int(a[0]) ?? 0, sep)
            }
        },
        "s.index": TransformDefinition(args: 1...2) { c in
            if let e = Transformations.requireInts(c, [1]) { return .failure(e) }
            return .success { v, a in .int(index(bytes(v), bytes(a[0]), a.count > 1 ? Transformations.int(a[1]) : nil, reverse: false)) }
        },
        "s.rindex": TransformDefinition(args: 1...2) { c in
            if let e = Transformations.requireInts(c, [1]) { return .failure(e) }
            return .success { v, a in .int(index(bytes(v), bytes(a[0]), a.count > 1 ? Transformations.int(a[1]) : nil, reverse: true)) }
        },
        "s.fill.left": TransformDefinition(args: 2...2) { c in
            if let e = Transformations.requireInts(c, [1]) { return .failure(e) }
            return .success { v, a in fill(bytes(v), bytes(a[0]), Transformations.int(a[1]) ?? 0, left: true) }
        },
        "s.fill.right": TransformDefinition(args: 2...2) { c in
            if let e = Transformations.requireInts(c, [1]) { return .failure(e) }
            return .success { v, a in fill(bytes(v), bytes(a[0]), Transformations.int(a[1]) ?? 0, left: false) }
        },
        "s.width": TransformDefinition(args: 1...1) { c in
            if let e = Transformations.requireInts(c, [0]) { return .failure(e) }
            return .success { v, a in
                let w = min(max(0, Transformations.int(a[0]) ?? 0), maxWidth)
                let b = bytes(v)
                if b.count >= w { return string(b.prefix(w)) }
                return string(b + Array(repeating: 32, count: w - b.count))
            }
        },
        "s.encode.hexa": TransformDefinition { v, _ in .string(Hex.encode(bytes(v))) },
        "s.decode.hexa": TransformDefinition { v, _ in Hex.decode(bytes(v)).map { string($0) } ?? .null },
        "s.dec2hex": TransformDefinition { v, _ in
            guard let i = leadingIntIfAny(text(v)) else { return .null }
            return .string(String(UInt(bitPattern: i), radix: 16))
        },
        "s.hex2dec": TransformDefinition { v, _ in
            var t = Substring(text(v).trimmingSpaces())
            if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
            guard let u = UInt(t, radix: 16) else { return .null }
            return .int(Int(bitPattern: u))
        },
        "s.escape.common": TransformDefinition { v, _ in string(Escaping.escapeCommon(bytes(v))) },
        "s.unescape.common": TransformDefinition { v, _ in string(Escaping.unescapeCommon(bytes(v))) },
        "s.escape.user": TransformDefinition { v, _ in string(Escaping.percentEncode(bytes(v), keeping: Escaping.userExtra)) },
        "s.unescape.user": TransformDefinition { v, _ in Escaping.percentDecode(bytes(v)).map { string($0) } ?? .null },
        "s.escape.param": TransformDefinition { v, _ in string(Escaping.percentEncode(bytes(v), keeping: Escaping.paramExtra)) },
        "s.unescape.param": TransformDefinition { v, _ in Escaping.percentDecode(bytes(v)).map { string($0) } ?? .null },
        "s.b64encode": TransformDefinition { v, _ in .string(Base64.encode(bytes(v))) },
        "s.b64decode": TransformDefinition { v, _ in Base64.decode(bytes(v)).map { string($0) } ?? .null },
        "s.md5": TransformDefinition { v, _ in .string(Hex.encode(MD5.digest(bytes(v)))) },
        "s.sha1": TransformDefinition { v, _ in .string(Hex.encode(SHA1.digest(bytes(v)))) },
        "s.sha256": TransformDefinition { v, _ in .string(Hex.encode(SHA256.digest(bytes(v)))) },
    ]

    /// The integer at the start of the text (after spaces, with an optional sign); 0 if none.
    static func leadingInt(_ s: String) -> Int { leadingIntIfAny(s) ?? 0 }

    /// `s.int`: an integer value is its own reading (no round trip through text).
    static func leadingInt(_ v: ScriptValue) -> Int {
        if case .int(let i) = v { return i }
        return withBytes(v) { leadingIntIfAny($0) } ?? 0
    }

    static func leadingIntIfAny(_ s: String) -> Int? {
        var s = s
        return s.withUTF8 { leadingIntIfAny($0) }
    }

    /// Over the UTF-8 bytes: spaces and tabs, an optional sign, ASCII digits (saturating on overflow).
    static func leadingIntIfAny(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < b.count && (b[i] == 32 || b[i] == 9) { i += 1 }
        var negative = false
        if i < b.count && (b[i] == 45 || b[i] == 43) { negative = b[i] == 45; i += 1 }
        let start = i
        var value = 0
        while i < b.count && b[i] >= 48 && b[i] <= 57 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (r, o2) = m.addingReportingOverflow(Int(b[i] &- 48))
            if o1 || o2 { return negative ? Int.min : Int.max }
            value = r
            i += 1
        }
        guard i > start else { return nil }
        return negative ? -value : value
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }

    static func trim(_ b: [UInt8], left: Bool, right: Bool) -> ArraySlice<UInt8> {
        var s = b[...]
        if left { while let f = s.first, isSpace(f) { s = s.dropFirst() } }
        if right { while let l = s.last, isSpace(l) { s = s.dropLast() } }
        return s
    }

    /// Offset from the start (negative: from the end, -1 the last byte); length 0 = to the end,
    /// negative = stop that many bytes before the end.
    static func substr(_ b: UnsafeBufferPointer<UInt8>, _ offset: Int, _ length: Int) -> ScriptValue {
        let n = b.count
        var start = offset >= 0 ? offset : n + offset
        if start < 0 { start = 0 }
        guard start < n else { return .string("") }
        let end: Int
        if length > 0 { end = min(n, start + length) } else if length == 0 { end = n } else { end = n + length }
        guard end > start else { return .string("") }
        return .string(String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self))
    }

    /// The field at `index` (negative: from the end) of the text split on `sep`.
    static func select(_ b: [UInt8], _ index: Int, _ sep: UInt8) -> ScriptValue {
        let fields = b.split(separator: sep, omittingEmptySubsequences: false)
        let i = index >= 0 ? index : fields.count + index
        guard i >= 0 && i < fields.count else { return .null }
        return string(fields[i])
    }

    /// First (or last) position of `needle`, searching from `offset` (negative offsets wrap
    /// around the length); -1 when absent.
    static func index(_ hay: [UInt8], _ needle: [UInt8], _ offset: Int?, reverse: Bool) -> Int {
        let n = hay.count, m = needle.count
        guard m > 0, m <= n else { return -1 }
        var start: Int
        if let o = offset {
            start = o
            if start < 0 { start = ((start % n) + n) % n }
        } else {
            start = reverse ? n - m : 0
        }
        func at(_ i: Int) -> Bool {
            for k in 0..<m where hay[i + k] != needle[k] { return false }
            return true
        }
        if reverse {
            var i = min(start, n - m)
            while i >= 0 { if at(i) { return i }; i -= 1 }
        } else {
            var i = start
            while i + m <= n { if at(i) { return i }; i += 1 }
        }
        return -1
    }

    /// Pads with repetitions of `token` up to `width` bytes (the value is kept whole if longer).
    /// Upper bound for `s.fill.*` and `s.width`, so a bad parameter cannot allocate without limit.
    static let maxWidth = 65_536

    static func fill(_ b: [UInt8], _ token: [UInt8], _ width: Int, left: Bool) -> ScriptValue {
        let width = min(width, maxWidth)
        guard !token.isEmpty, b.count < width else { return string(b) }
        var pad: [UInt8] = []
        while pad.count < width - b.count { pad.append(token[pad.count % token.count]) }
        return string(left ? pad + b : b + pad)
    }
}
