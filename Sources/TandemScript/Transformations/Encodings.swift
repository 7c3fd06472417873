/// Lower-case hexadecimal encoding of bytes.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ b: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for x in b {
            out.append(digits[Int(x >> 4)])
            out.append(digits[Int(x & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex digits (either case); nil for an odd length or a non-hex character.
    static func decode(_ b: [UInt8]) -> [UInt8]? {
        guard b.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(b.count / 2)
        var i = 0
        while i < b.count {
            guard let h = Lexer.hexValue(b[i]), let l = Lexer.hexValue(b[i + 1]) else { return nil }
            out.append(UInt8(h << 4 | l))
            i += 2
        }
        return out
    }
}

/// Standard Base64 (RFC 4648, with `=` padding).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ b: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i < b.count {
            let n = min(3, b.count - i)
            let v = UInt32(b[i]) << 16 | (n > 1 ? UInt32(b[i + 1]) << 8 : 0) | (n > 2 ? UInt32(b[i + 2]) : 0)
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(n > 1 ? alphabet[Int(v >> 6 & 63)] : 61)
            out.append(n > 2 ? alphabet[Int(v & 63)] : 61)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ b: [UInt8]) -> [UInt8]? {
        func value(_ c: UInt8) -> UInt32? {
            switch c {
            case 65...90: return UInt32(c - 65)
            case 97...122: return UInt32(c - 71)
            case 48...57: return UInt32(c + 4)
            case 43: return 62
            case 47: return 63
            default: return nil
            }
        }
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in b {
            if c == 61 { break }
            if c == 10 || c == 13 || c == 32 { continue }
            guard let v = value(c) else { return nil }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}

/// Escaping used by `s.escape.*` / `s.unescape.*`.
enum Escaping {
    /// RFC 3261 user-unreserved characters kept as they are in a URI user part.
    static let userExtra = Set("&=+$,;?/".utf8)
    /// RFC 3261 param-unreserved characters kept as they are in a URI parameter.
    static let paramExtra = Set("[]/:&+$".utf8)
    private static let markChars = Set("-_.!~*'()".utf8)
    private static let upperHex = Array("0123456789ABCDEF".utf8)

    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || markChars.contains(c)
    }

    /// `%HH` for every byte that is neither unreserved nor in `keeping`.
    static func percentEncode(_ b: [UInt8], keeping: Set<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for c in b {
            if isUnreserved(c) || keeping.contains(c) {
                out.append(c)
            } else {
                out.append(37)
                out.append(upperHex[Int(c >> 4)])
                out.append(upperHex[Int(c & 15)])
            }
        }
        return out
    }

    /// Decodes `%HH` sequences; nil for a malformed one.
    static func percentDecode(_ b: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == 37 {
                guard i + 2 < b.count, let h = Lexer.hexValue(b[i + 1]), let l = Lexer.hexValue(b[i + 2]) else { return nil }
                out.append(UInt8(h << 4 | l))
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    /// Backslash before `'`, `"` and `\`; NUL as `\0` (for database strings).
    static func escapeCommon(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for c in b {
            switch c {
            case 39, 34, 92: out.append(92); out.append(c)
            case 0: out.append(92); out.append(48)
            default: out.append(c)
            }
        }
        return out
    }

    static func unescapeCommon(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == 92 && i + 1 < b.count {
                let e = b[i + 1]
                switch e {
                case 39, 34, 92: out.append(e)
                case 48: out.append(0)
                default: out.append(92); out.append(e)
                }
                i += 2
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }
}
