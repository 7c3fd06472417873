/// A `;name[=value]` parameter of a header value or URI, kept as written (value unquoted
/// text keeps its quotes, escapes are not decoded). Names compare case-insensitively.
public struct SIPParameter: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// nil for a valueless parameter like `;lr`.
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }

    public var description: String { value.map { "\(name)=\($0)" } ?? name }
}

extension Array where Element == SIPParameter {
    /// First parameter named `name` (case-insensitive).
    public func first(named name: String) -> SIPParameter? {
        first { $0.name.utf8.count == name.utf8.count && $0.name.utf8.elementsEqual(name.utf8, by: { asciiLower($0) == asciiLower($1) }) }
    }

    /// Index of the first parameter named `name` (case-insensitive).
    public func firstIndex(named name: String) -> Int? {
        firstIndex { $0.name.utf8.count == name.utf8.count && $0.name.utf8.elementsEqual(name.utf8, by: { asciiLower($0) == asciiLower($1) }) }
    }

    /// Value of the first parameter named `name`; `.some(nil)` when it is valueless.
    public func value(of name: String) -> String?? {
        guard let p = first(named: name) else { return nil }
        return .some(p.value)
    }

    /// Sets (replacing the first occurrence) or appends a parameter.
    public mutating func set(_ name: String, _ value: String?) {
        if let i = firstIndex(named: name) { self[i].value = value } else { append(SIPParameter(name: name, value: value)) }
    }

    /// Removes all parameters named `name`.
    public mutating func remove(named name: String) {
        removeAll { $0.name.utf8.count == name.utf8.count && $0.name.utf8.elementsEqual(name.utf8, by: { asciiLower($0) == asciiLower($1) }) }
    }

    /// `;a=b;c` serialization.
    var serialized: String {
        var s = ""
        for p in self {
            s += ";"
            s += p.description
        }
        return s
    }
}

/// Where the next comma outside quoted strings and `<...>` is in `v[from..<end]` (nil: none). Each scan
/// starts outside a quote and outside `<...>`, which is where a top-level comma leaves it, so the
/// functions below can resume after one.
@inline(__always)
func nextTopLevelComma(_ v: ArraySlice<UInt8>, from: Int, to end: Int) -> Int? {
    var i = from
    var inQuote = false
    var angle = false
    while i < end {
        let b = v[i]
        if inQuote {
            if b == ASCII.backslash { i += 2; continue }
            if b == ASCII.quote { inQuote = false }
        } else if b == ASCII.quote {
            inQuote = true
        } else if b == ASCII.lt {
            angle = true
        } else if b == ASCII.gt {
            angle = false
        } else if b == ASCII.comma, !angle {
            return i
        }
        i += 1
    }
    return nil
}

/// Splits a header value at commas that are outside quoted strings and `<...>`; ranges are trimmed.
/// An empty or all-whitespace value yields no elements.
func splitTopLevel(_ v: ArraySlice<UInt8>) -> [Range<Int>] {
    var out: [Range<Int>] = []
    let all = v.trimmedRange(v.startIndex..<v.endIndex)
    if all.isEmpty { return out }
    var start = all.lowerBound
    while let comma = nextTopLevelComma(v, from: start, to: all.upperBound) {
        out.append(v.trimmedRange(start..<comma))
        start = comma + 1
    }
    out.append(v.trimmedRange(start..<all.upperBound))
    return out
}

/// The first element of `splitTopLevel(v)` without building the array (nil when `v` is blank): the
/// top Via and the first of a comma list are read on every message.
func firstTopLevel(_ v: ArraySlice<UInt8>) -> Range<Int>? {
    let all = v.trimmedRange(v.startIndex..<v.endIndex)
    if all.isEmpty { return nil }
    let comma = nextTopLevelComma(v, from: all.lowerBound, to: all.upperBound)
    return v.trimmedRange(all.lowerBound..<(comma ?? all.upperBound))
}

/// `splitTopLevel(v)[1].lowerBound` without building the array: where the second element starts (nil
/// when there are fewer than two). Removing the top Via of every reply needs only that.
func secondTopLevelStart(_ v: ArraySlice<UInt8>) -> Int? {
    let all = v.trimmedRange(v.startIndex..<v.endIndex)
    if all.isEmpty { return nil }
    guard let first = nextTopLevelComma(v, from: all.lowerBound, to: all.upperBound) else { return nil }
    let second = nextTopLevelComma(v, from: first + 1, to: all.upperBound)
    return v.trimmedRange((first + 1)..<(second ?? all.upperBound)).lowerBound
}

/// Skips whitespace (SP, HTAB, CR, LF) in `v` from `i`.
@inline(__always) func skipSpace(_ v: ArraySlice<UInt8>, _ i: inout Int) {
    while i < v.endIndex, isLWSByte(v[i]) { i += 1 }
}

/// Parses `*( SWS ";" SWS name [ SWS "=" SWS value ] )` until the end of `v`.
/// Values may be tokens, quoted strings or bracketed IPv6 references. Returns nil on syntax errors
/// (empty names, empty values, trailing garbage).
func parseHeaderParams(_ v: ArraySlice<UInt8>, from start: Int) -> [SIPParameter]? {
    var params: [SIPParameter] = []
    let ok = scanHeaderParams(v, from: start) { name, value in
        params.append(SIPParameter(name: makeString(v[name]), value: value.map { makeString(v[$0]) }))
    }
    return ok ? params : nil
}

/// True if `v` from `start` is a valid header parameter list (as `parseHeaderParams` accepts), without
/// building the parameters.
func headerParamsAreValid(_ v: ArraySlice<UInt8>, from start: Int) -> Bool {
    scanHeaderParams(v, from: start) { _, _ in }
}

/// The grammar of `parseHeaderParams`: calls `found` with each parameter's name range and value range
/// (nil for a parameter without `=`) and returns false on a syntax error.
@inline(__always)
func scanHeaderParams(_ v: ArraySlice<UInt8>, from start: Int,
                      _ found: (Range<Int>, Range<Int>?) -> Void) -> Bool {
    var i = start
    while true {
        skipSpace(v, &i)
        if i >= v.endIndex { return true }
        guard v[i] == ASCII.semicolon else { return false }
        i += 1
        skipSpace(v, &i)
        let ns = i
        while i < v.endIndex, isTokenChar(v[i]) { i += 1 }
        guard i > ns else { return false }
        let name = ns..<i
        skipSpace(v, &i)
        if i < v.endIndex, v[i] == ASCII.equals {
            i += 1
            skipSpace(v, &i)
            guard i < v.endIndex else { return false }
            let vs = i
            if v[i] == ASCII.quote {
                guard let e = quotedStringEnd(v, from: i) else { return false }
                i = e
            } else if v[i] == ASCII.lbracket {
                while i < v.endIndex, v[i] != ASCII.rbracket { i += 1 }
                guard i < v.endIndex else { return false }
                i += 1
            } else {
                while i < v.endIndex, isTokenChar(v[i]) || v[i] == ASCII.colon || v[i] == ASCII.lbracket || v[i] == ASCII.rbracket { i += 1 }
            }
            guard i > vs else { return false }
            found(name, vs..<i)
        } else {
            found(name, nil)
        }
    }
}

/// Given `v[i] == "`, returns the index just past the closing quote (backslash escapes honoured).
func quotedStringEnd(_ v: ArraySlice<UInt8>, from i: Int) -> Int? {
    var j = i + 1
    while j < v.endIndex {
        let b = v[j]
        if b == ASCII.backslash { j += 2; continue }
        if b == ASCII.quote { return j + 1 }
        j += 1
    }
    return nil
}

/// Removes the quotes and backslash escapes of a quoted string's bytes (quotes included in `v`).
func unquote(_ v: ArraySlice<UInt8>) -> String {
    guard v.count >= 2, v.first == ASCII.quote, v.last == ASCII.quote else { return makeString(v) }
    var out: [UInt8] = []
    out.reserveCapacity(v.count)
    var i = v.startIndex + 1
    let end = v.endIndex - 1
    while i < end {
        if v[i] == ASCII.backslash, i + 1 < end { out.append(v[i + 1]); i += 2; continue }
        out.append(v[i])
        i += 1
    }
    return makeString(out)
}
