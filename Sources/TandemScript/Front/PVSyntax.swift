/// The parsed shape of a pseudo-variable reference: `$name(argument)[index]{transformations}`.
public struct PVSpec: Sendable, Hashable {
    public var name: String
    public var argument: String?
    /// Raw index text (`1`, `-1`, `*`), if any.
    public var index: String?
    public var transformations: [String]
    /// The source text including `$`.
    public var text: String
    /// `$(<request>...)` / `$(<reply>...)`: the message of the transaction the variable reads.
    public var context: PVContext? = nil
}

/// The message a `$(<context>name...)` pseudo-variable reads (OpenSIPS 3.6): the transaction's request
/// (in an onreply_route) or the reply that decided a failure_route.
public enum PVContext: String, Sendable, Hashable {
    case request, reply
}

/// Scanning and splitting of pseudo-variable syntax (shared by the lexer and string interpolation).
enum PVSyntax {
    /// Returns the end offset of a pseudo-variable starting at `start` (which holds `$`), or nil.
    static func scan(_ b: [UInt8], from start: Int, inString: Bool) -> Int? {
        var i = start + 1
        guard i < b.count else { return nil }
        if b[i] == 40 { // $( ... )
            guard let end = matching(b, from: i, open: 40, close: 41) else { return nil }
            return end
        }
        guard Lexer.isIdentStart(b[i]) else { return nil }
        i = nameEnd(b, from: i)
        if i < b.count && b[i] == 40 {
            guard let end = matching(b, from: i, open: 40, close: 41) else { return nil }
            i = end
        }
        if i < b.count && b[i] == 91 { // [index]
            var j = i + 1
            if j < b.count && b[j] == 36, let end = matching(b, from: i, open: 91, close: 93) { // [$var(i)]
                return end
            }
            if j < b.count && (b[j] == 45 || b[j] == 42) { j += 1 }
            let digitsStart = j
            while j < b.count && b[j] >= 48 && b[j] <= 57 { j += 1 }
            let okIndex = (j > digitsStart || (j == digitsStart && j > i + 1 && b[j - 1] == 42))
            if okIndex && j < b.count && b[j] == 93 { i = j + 1 }
        }
        _ = inString
        return i
    }

    /// OpenSIPS 3.x pseudo-variable families written with a dot (`$msg.branch`, `$sdp.line(...)`).
    static let dottedFamilies: Set<String> = ["msg", "sdp", "ct", "socket_in", "socket_out", "route", "cfg", "branch",
                                              "auth", "challenge", "err", "tm"]

    /// End of a pseudo-variable name starting at `from`: identifier characters, plus `.name`
    /// parts after a dotted family.
    static func nameEnd(_ b: [UInt8], from: Int) -> Int {
        var i = from
        while i < b.count && Lexer.isIdentChar(b[i]) { i += 1 }
        guard i + 1 < b.count, b[i] == 46, Lexer.isIdentStart(b[i + 1]),
              dottedFamilies.contains(String(decoding: b[from..<i], as: UTF8.self)) else { return i }
        while i + 1 < b.count && b[i] == 46 && Lexer.isIdentStart(b[i + 1]) {
            i += 1
            while i < b.count && Lexer.isIdentChar(b[i]) { i += 1 }
        }
        return i
    }

    /// Offset just past the bracket matching the one at `from`.
    static func matching(_ b: [UInt8], from: Int, open: UInt8, close: UInt8) -> Int? {
        var depth = 0
        var i = from
        while i < b.count {
            let c = b[i]
            if c == open { depth += 1 }
            else if c == close {
                depth -= 1
                if depth == 0 { return i + 1 }
            } else if c == 10 { return nil }
            i += 1
        }
        return nil
    }

    /// Splits raw text after `$` into its parts.
    static func parse(_ raw: String) -> PVSpec? {
        var b = Array(raw.utf8)
        let text = "$" + raw
        var context: PVContext?
        if b.first == 40 {
            guard b.last == 41, b.count >= 2 else { return nil }
            b = Array(b[1..<(b.count - 1)])
            // `$(<reply>hdr(X))`: a context before the name.
            if b.first == 60 {
                guard let close = b.firstIndex(of: 62),
                      let c = PVContext(rawValue: String(decoding: b[1..<close], as: UTF8.self)) else { return nil }
                context = c
                b = Array(b[(close + 1)...])
            }
        }
        var i = nameEnd(b, from: 0)
        guard i > 0 else { return nil }
        let name = String(decoding: b[0..<i], as: UTF8.self)
        var argument: String?
        var index: String?
        var transformations: [String] = []
        if i < b.count && b[i] == 40 {
            guard let end = matching(b, from: i, open: 40, close: 41) else { return nil }
            argument = String(decoding: b[(i + 1)..<(end - 1)], as: UTF8.self)
            i = end
        }
        if i < b.count && b[i] == 91 {
            guard let end = matching(b, from: i, open: 91, close: 93) else { return nil }
            index = String(decoding: b[(i + 1)..<(end - 1)], as: UTF8.self)
            i = end
        }
        while i < b.count && b[i] == 123 {
            guard let end = matching(b, from: i, open: 123, close: 125) else { return nil }
            transformations.append(String(decoding: b[(i + 1)..<(end - 1)], as: UTF8.self))
            i = end
        }
        guard i == b.count else { return nil }
        return PVSpec(name: name, argument: argument, index: index, transformations: transformations, text: text,
                      context: context)
    }
}
