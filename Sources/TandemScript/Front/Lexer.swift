/// Turns script source bytes into tokens; never fails, reports problems as diagnostics.
struct Lexer {
    let bytes: [UInt8]
    let file: String
    private var i = 0
    private var line = 1
    private var lineStart = 0
    private(set) var diagnostics: [Diagnostic] = []

    init(source: String, file: String) {
        self.bytes = Array(source.utf8)
        self.file = file
    }

    private func loc(_ offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: offset - lineStart + 1)
    }

    private func peek(_ k: Int = 0) -> UInt8 { i + k < bytes.count ? bytes[i + k] : 0 }

    private mutating func newline(at offset: Int) {
        line += 1
        lineStart = offset + 1
    }

    static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }

    static func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 48 && c <= 57) }

    mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(bytes.count / 3)
        while true {
            skipTrivia()
            guard i < bytes.count else {
                tokens.append(Token(kind: .eof, location: loc(i), start: i, end: i))
                return tokens
            }
            if let t = next() { tokens.append(t) }
        }
    }

    private mutating func skipTrivia() {
        while i < bytes.count {
            let c = bytes[i]
            if c == 10 { newline(at: i); i += 1 }
            else if c == 32 || c == 9 || c == 13 || c == 12 || c == 11 { i += 1 }
            else if c == 35 || (c == 47 && peek(1) == 47) { // # or //
                while i < bytes.count && bytes[i] != 10 { i += 1 }
            } else if c == 47 && peek(1) == 42 { // /*
                let start = loc(i)
                i += 2
                var closed = false
                while i < bytes.count {
                    if bytes[i] == 42 && peek(1) == 47 { i += 2; closed = true; break }
                    if bytes[i] == 10 { newline(at: i) }
                    i += 1
                }
                if !closed { diagnostics.append(Diagnostic(start, "unterminated block comment")) }
            } else { return }
        }
    }

    private mutating func next() -> Token? {
        let start = i
        let l = loc(i)
        let c = bytes[i]
        func tok(_ k: TokenKind) -> Token { Token(kind: k, location: l, start: start, end: i) }
        if let end = scanAddress(from: start) {
            i = end
            return tok(.address(String(decoding: bytes[start..<end], as: UTF8.self)))
        }
        if Lexer.isIdentStart(c) {
            while i < bytes.count && Lexer.isIdentChar(bytes[i]) { i += 1 }
            return tok(.identifier(String(decoding: bytes[start..<i], as: UTF8.self)))
        }
        if c >= 48 && c <= 57 {
            var value = 0
            var overflow = false
            if c == 48 && (peek(1) == 120 || peek(1) == 88) && Lexer.hexValue(peek(2)) != nil {
                i += 2
                while i < bytes.count, let h = Lexer.hexValue(bytes[i]) {
                    let (m, o1) = value.multipliedReportingOverflow(by: 16)
                    let (s, o2) = m.addingReportingOverflow(h)
                    value = s; overflow = overflow || o1 || o2
                    i += 1
                }
            } else {
                while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(Int(bytes[i] - 48))
                    value = s; overflow = overflow || o1 || o2
                    i += 1
                }
            }
            if overflow { diagnostics.append(Diagnostic(l, "integer literal is too large")); value = 0 }
            // A decimal literal (`0.5`, for async timeouts): the language has no floats, so it is kept as text.
            if i + 1 < bytes.count && bytes[i] == 46 && bytes[i + 1] >= 48 && bytes[i + 1] <= 57 {
                i += 1
                var fraction = ""
                while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
                    fraction.append(Character(UnicodeScalar(bytes[i])))
                    i += 1
                }
                return tok(.string("\(value).\(fraction)"))
            }
            return tok(.integer(value))
        }
        if c == 34 || c == 39 { return lexString(quote: c, l: l) }
        if c == 36 { // $
            if let end = PVSyntax.scan(bytes, from: i, inString: false) {
                i = end
                return tok(.pseudoVar(String(decoding: bytes[(start + 1)..<end], as: UTF8.self)))
            }
            i += 1
            diagnostics.append(Diagnostic(l, "expected a pseudo-variable name after '$'"))
            return nil
        }
        let n = peek(1)
        let two: Punct?
        switch (c, n) {
        case (61, 61): two = .eq
        case (33, 61): two = .ne
        case (61, 126): two = .match
        case (33, 126): two = .noMatch
        case (60, 61): two = .le
        case (62, 61): two = .ge
        case (60, 60): two = .shl
        case (62, 62): two = .shr
        case (38, 38): two = .and
        case (124, 124): two = .or
        case (43, 61): two = .plusAssign
        case (45, 61): two = .minusAssign
        case (58, 61): two = .colonAssign
        case (42, 61): two = .starAssign
        case (47, 61): two = .slashAssign
        case (37, 61): two = .percentAssign
        case (38, 61): two = .ampAssign
        case (124, 61): two = .pipeAssign
        case (94, 61): two = .caretAssign
        default: two = nil
        }
        if let two { i += 2; return tok(.punct(two)) }
        let one: Punct?
        switch c {
        case 40: one = .lparen
        case 41: one = .rparen
        case 123: one = .lbrace
        case 125: one = .rbrace
        case 91: one = .lbracket
        case 93: one = .rbracket
        case 44: one = .comma
        case 59: one = .semicolon
        case 58: one = .colon
        case 46: one = .dot
        case 61: one = .assign
        case 60: one = .lt
        case 62: one = .gt
        case 43: one = .plus
        case 45: one = .minus
        case 42: one = .star
        case 47: one = .slash
        case 37: one = .percent
        case 38: one = .amp
        case 124: one = .pipe
        case 94: one = .caret
        case 126: one = .tilde
        case 33: one = .not
        default: one = nil
        }
        i += 1
        if let one { return tok(.punct(one)) }
        // Skip the rest of a multi-byte UTF-8 sequence so one bad character is one error.
        while i < bytes.count && (bytes[i] & 0xC0) == 0x80 { i += 1 }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        diagnostics.append(Diagnostic(l, "unexpected character '\(text)'"))
        return nil
    }

    /// End offset of an IP address or network literal starting at `start`, or nil: a dotted quad,
    /// an IPv6 address with at least two colons, or either in brackets, each with an optional `/prefix`.
    private func scanAddress(from start: Int) -> Int? {
        let c = bytes[start]
        guard Lexer.hexValue(c) != nil || c == 58 || c == 91 else { return nil }
        var j = start
        if c == 91 { // [v6]
            j += 1
            while j < bytes.count && (Lexer.hexValue(bytes[j]) != nil || bytes[j] == 58 || bytes[j] == 46) { j += 1 }
            guard j < bytes.count, bytes[j] == 93,
                  let a = IPAddress(String(decoding: bytes[(start + 1)..<j], as: UTF8.self)), a.isV6 else { return nil }
            j += 1
        } else {
            var colons = 0, dots = 0
            while j < bytes.count && (Lexer.hexValue(bytes[j]) != nil || bytes[j] == 58 || bytes[j] == 46) {
                if bytes[j] == 58 { colons += 1 } else if bytes[j] == 46 { dots += 1 }
                j += 1
            }
            // A trailing ':' or '.' belongs to the syntax around (a `case 1:` label), not to the address.
            if j - start >= 2 && bytes[j - 1] == 58 && bytes[j - 2] != 58 { colons -= 1; j -= 1 }
            if j > start && bytes[j - 1] == 46 { dots -= 1; j -= 1 }
            guard colons >= 2 || (colons == 0 && dots == 3),
                  IPAddress(String(decoding: bytes[start..<j], as: UTF8.self)) != nil else { return nil }
            if j < bytes.count && Lexer.isIdentChar(bytes[j]) { return nil }
        }
        if j + 1 < bytes.count && bytes[j] == 47 && bytes[j + 1] >= 48 && bytes[j + 1] <= 57 { // /prefix
            var k = j + 1
            while k < bytes.count && bytes[k] >= 48 && bytes[k] <= 57 { k += 1 }
            let text = String(decoding: bytes[start..<k], as: UTF8.self)
            if IPNetwork(text) != nil { j = k }
        }
        return j
    }

    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: return Int(c - 48)
        case 97...102: return Int(c - 87)
        case 65...70: return Int(c - 55)
        default: return nil
        }
    }

    private mutating func lexString(quote: UInt8, l: SourceLocation) -> Token {
        let start = i
        i += 1
        var out: [UInt8] = []
        var closed = false
        while i < bytes.count {
            let c = bytes[i]
            if c == quote { i += 1; closed = true; break }
            if c == 92 && i + 1 < bytes.count { // backslash
                let e = bytes[i + 1]
                switch e {
                case 110: out.append(10)
                case 114: out.append(13)
                case 116: out.append(9)
                case 92: out.append(92)
                case 34: out.append(34)
                case 39: out.append(39)
                default: out.append(92); out.append(e)
                }
                if e == 10 { newline(at: i + 1) }
                i += 2
                continue
            }
            if c == 10 { newline(at: i) }
            out.append(c)
            i += 1
        }
        if !closed { diagnostics.append(Diagnostic(l, "unterminated string literal")) }
        return Token(kind: .string(String(decoding: out, as: UTF8.self)), location: l, start: start, end: i)
    }
}
