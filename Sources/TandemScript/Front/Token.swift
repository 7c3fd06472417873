/// Punctuation and operator tokens of the routing script.
enum Punct: String, Sendable {
    case lparen = "(", rparen = ")", lbrace = "{", rbrace = "}", lbracket = "[", rbracket = "]"
    case comma = ",", semicolon = ";", colon = ":", dot = "."
    case assign = "=", plusAssign = "+=", minusAssign = "-=", colonAssign = ":="
    case starAssign = "*=", slashAssign = "/=", percentAssign = "%=", ampAssign = "&=", pipeAssign = "|=", caretAssign = "^="
    case eq = "==", ne = "!=", match = "=~", noMatch = "!~", lt = "<", gt = ">", le = "<=", ge = ">="
    case plus = "+", minus = "-", star = "*", slash = "/", percent = "%"
    case amp = "&", pipe = "|", caret = "^", tilde = "~", shl = "<<", shr = ">>"
    case and = "&&", or = "||", not = "!"
}

/// Kind and payload of a lexical token.
enum TokenKind: Sendable, Equatable {
    case identifier(String)
    case integer(Int)
    case string(String)
    /// Raw pseudo-variable text after the `$`, e.g. `var(x)` or `(avp(a)[1])`.
    case pseudoVar(String)
    case punct(Punct)
    /// An IP address or network literal (`10.0.0.1`, `10.0.0.0/8`, `[2001:db8::1]`, `2001:db8::/32`).
    case address(String)
    case eof
}

/// A token with its position and byte range in the source.
struct Token: Sendable {
    var kind: TokenKind
    var location: SourceLocation
    var start: Int
    var end: Int
    /// Which source buffer `start`/`end` index: 0 for the main file, others for included files.
    var buffer: Int = 0

    var line: Int { location.line }
}
