/// Byte constants and small scanning helpers shared by the parsers (no Foundation).
enum ASCII {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let sp: UInt8 = 32
    static let htab: UInt8 = 9
    static let colon: UInt8 = 58
    static let semicolon: UInt8 = 59
    static let comma: UInt8 = 44
    static let quote: UInt8 = 34
    static let backslash: UInt8 = 92
    static let lt: UInt8 = 60
    static let gt: UInt8 = 62
    static let equals: UInt8 = 61
    static let slash: UInt8 = 47
    static let at: UInt8 = 64
    static let question: UInt8 = 63
    static let ampersand: UInt8 = 38
    static let percent: UInt8 = 37
    static let lbracket: UInt8 = 91
    static let rbracket: UInt8 = 93
    static let dot: UInt8 = 46
    static let star: UInt8 = 42
    static let zero: UInt8 = 48
}

@inline(__always) func isWS(_ b: UInt8) -> Bool { b == ASCII.sp || b == ASCII.htab }
@inline(__always) func isLWSByte(_ b: UInt8) -> Bool { b == ASCII.sp || b == ASCII.htab || b == ASCII.cr || b == ASCII.lf }
@inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
@inline(__always) func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 }
@inline(__always) func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
@inline(__always) func asciiLower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b | 0x20 : b }
@inline(__always) func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 97 && (b | 0x20) <= 102) }
@inline(__always) func hexValue(_ b: UInt8) -> UInt8 { isDigit(b) ? b - 48 : (b | 0x20) - 87 }

/// RFC 3261 `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
@inline(__always) func isTokenChar(_ b: UInt8) -> Bool {
    if isAlnum(b) { return true }
    switch b {
    case 45, 46, 33, 37, 42, 95, 43, 96, 39, 126: return true
    default: return false
    }
}

/// RFC 3261 `word` characters (Call-ID): token chars plus ( ) < > : \ " / [ ] ? { }.
@inline(__always) func isWordChar(_ b: UInt8) -> Bool {
    if isTokenChar(b) { return true }
    switch b {
    case 40, 41, 60, 62, 58, 92, 34, 47, 91, 93, 63, 123, 125: return true
    default: return false
    }
}

extension Collection where Element == UInt8, Index == Int {
    /// Index range with leading/trailing SP, HTAB, CR and LF removed.
    @inline(__always) func trimmedRange(_ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi, isLWSByte(self[lo]) { lo += 1 }
        while hi > lo, isLWSByte(self[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    /// True when `self[r]` equals `lit` ignoring ASCII case (`lit` must be lowercase).
    @inline(__always) func equalsLowercase(_ r: Range<Int>, _ lit: [UInt8]) -> Bool {
        guard r.count == lit.count else { return false }
        var i = r.lowerBound, j = 0
        while i < r.upperBound {
            if asciiLower(self[i]) != lit[j] { return false }
            i += 1; j += 1
        }
        return true
    }

    /// ``equalsLowercase(_:_:)-([UInt8])`` against a literal, without building an array of it (this
    /// runs for every start line and URI parsed).
    @inline(__always) func equalsLowercase(_ r: Range<Int>, _ lit: StaticString) -> Bool {
        guard r.count == lit.utf8CodeUnitCount else { return false }
        let l = lit.utf8Start
        var i = r.lowerBound, j = 0
        while i < r.upperBound {
            if asciiLower(self[i]) != l[j] { return false }
            i += 1; j += 1
        }
        return true
    }

    /// Parses `self[r]` as 1*DIGIT into a UInt64; nil on empty, non-digit or overflow.
    func parseDecimal(_ r: Range<Int>) -> UInt64? {
        if r.isEmpty { return nil }
        var v: UInt64 = 0
        for i in r {
            let b = self[i]
            guard isDigit(b) else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - 48))
            if o1 || o2 { return nil }
            v = s
        }
        return v
    }
}

/// Builds a String from bytes (UTF-8, invalid sequences repaired).
@inline(__always) func makeString<C: Collection>(_ c: C) -> String where C.Element == UInt8 {
    String(decoding: c, as: UTF8.self)
}

/// Converts a String to its UTF-8 bytes.
@inline(__always) func bytesOf(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Removes folding (CRLF / LF followed by whitespace becomes one SP) from header value bytes.
func unfold<C: Collection>(_ c: C) -> [UInt8] where C.Element == UInt8 {
    var out: [UInt8] = []
    out.reserveCapacity(c.count)
    var afterBreak = false
    for b in c {
        if b == ASCII.cr || b == ASCII.lf {
            afterBreak = true
            continue
        }
        if afterBreak {
            if isWS(b) { continue }
            while let last = out.last, isWS(last) { out.removeLast() }
            out.append(ASCII.sp)
            afterBreak = false
        }
        out.append(b)
    }
    return out
}
