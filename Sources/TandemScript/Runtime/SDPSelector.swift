/// A compiled `$sdp` reference of OpenSIPS 3.6, read over the message body (`$mb`):
///
/// - `$sdp`: the whole SDP body.
/// - `$sdp.line(a=ptime[1])`: the 2nd line starting with `a=ptime` (`[n]` alone: the n-th line of the body;
///   a `[$var(i)]` index is read when the statement runs).
/// - `$sdp.session(...)`: the same filter over the session part (before the first `m=` line).
/// - `$sdp.stream(audio[1]/a=rtpmap)`: the same filter inside a media stream, chosen by a media-type prefix
///   (`audio`, `a`, or empty for any) and its index among the matching streams; with no line filter, the
///   whole stream (its lines joined with CRLF).
/// - a trailing `/[n]` or `/PREFIX[n]` picks a token of the matched line's value (after `x=`), tokens
///   being separated by spaces or `;`: `$sdp.line(m=audio/[1])` is the port, `$sdp.line(m=audio/RTP)`
///   the transport. `\/` is a literal `/`.
///
/// - `$sdp.stream.idx(...)` (read-only): with the filter of `$sdp.stream`, the index in the whole body
///   of the line it matches (of the `m=` line with no line filter), so that `$sdp.line([idx])` is it.
///
/// Absent lines, streams or tokens read as NULL. Every form but `$sdp.stream.idx` is writable: the
/// value replaces the selected body, stream, line or token, and NULL deletes it.
struct SDPSelector: Sendable {
    enum Scope: Sendable { case body, line, session, stream, streamIndex }
    /// One `text[index]` part of the argument.
    struct Filter: Sendable {
        var prefix: String
        var index: Int
        /// `[$var(i)]`: the index is that pseudo-variable's value.
        var dynamicIndex: PVSpec?
    }

    var scope: Scope
    var stream: Filter?
    var line: Filter?
    var token: Filter?

    /// Parses the argument of `$sdp.line/.session/.stream(...)`; nil with a reason when malformed.
    static func parse(scope: Scope, argument: String?) -> Result<SDPSelector, SDPSelectorError> {
        var sel = SDPSelector(scope: scope)
        guard scope != .body else {
            return argument == nil ? .success(sel) : .failure(SDPSelectorError(reason: "'$sdp' takes no argument"))
        }
        guard let argument, !argument.isEmpty else { return .failure(SDPSelectorError(reason: "needs a filter, e.g. (a=ptime)")) }
        var parts = splitUnescaped(argument)
        if scope == .stream || scope == .streamIndex {
            let first = parts.removeFirst()
            guard let f = filter(first) else { return .failure(SDPSelectorError(reason: "invalid stream filter '\(first)'")) }
            sel.stream = f
        }
        if parts.count > 2 { return .failure(SDPSelectorError(reason: "too many '/' parts in '\(argument)'")) }
        if let l = parts.first {
            guard let f = filter(l) else { return .failure(SDPSelectorError(reason: "invalid line filter '\(l)'")) }
            sel.line = f
        }
        if parts.count == 2 {
            guard let f = filter(parts[1]), f.dynamicIndex == nil else {
                return .failure(SDPSelectorError(reason: "invalid token filter '\(parts[1])'"))
            }
            sel.token = f
        }
        if scope != .stream && scope != .streamIndex && sel.line == nil { return .failure(SDPSelectorError(reason: "needs a line filter, e.g. (a=ptime)")) }
        return .success(sel)
    }

    /// Splits at `/` not preceded by `\`, unescaping `\/` and `\\`.
    private static func splitUnescaped(_ s: String) -> [String] {
        var parts: [String] = []
        var cur = ""
        var escape = false
        for c in s {
            if escape { cur.append(c); escape = false; continue }
            if c == "\\" { escape = true; continue }
            if c == "/" { parts.append(cur); cur = ""; continue }
            cur.append(c)
        }
        if escape { cur.append("\\") }
        parts.append(cur)
        return parts
    }

    /// `text`, `text[3]`, `[-1]`, `text[$var(i)]`.
    private static func filter(_ raw: String) -> Filter? {
        let s = raw.trimmingSpaces()
        guard s.hasSuffix("]"), let open = s.lastIndex(of: "[") else { return Filter(prefix: s, index: 0) }
        let prefix = String(s[s.startIndex..<open])
        let inner = String(s[s.index(after: open)..<s.index(before: s.endIndex)]).trimmingSpaces()
        if let i = Int(inner) { return Filter(prefix: prefix, index: i) }
        if inner.hasPrefix("$"), let spec = PVSyntax.parse(String(inner.dropFirst())) {
            return Filter(prefix: prefix, index: 0, dynamicIndex: spec)
        }
        return nil
    }

    /// Where a selection lies in the body's lines: the line range it covers and, for a token
    /// filter, the token's range inside the line's text.
    struct Match {
        var lines: Range<Int>
        var token: Range<String.Index>?
    }

    /// Finds the selection in `lines`; `lineIndex` is the evaluated dynamic line index, if any.
    func locate(_ lines: [String], lineIndex: Int?) -> Match? {
        var scopeRange = 0..<lines.count
        switch scope {
        case .body:
            return Match(lines: scopeRange)
        case .line:
            break
        case .session:
            if let m = lines.firstIndex(where: { $0.hasPrefix("m=") }) { scopeRange = 0..<m }
        case .stream, .streamIndex:
            guard let stream else { return nil }
            var starts: [Int] = []
            for (i, l) in lines.enumerated() where l.hasPrefix("m=") && l.dropFirst(2).hasPrefix(stream.prefix) {
                starts.append(i)
            }
            guard let at = SDPSelector.pick(starts.count, stream.index) else { return nil }
            let start = starts[at]
            let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("m=") }) ?? lines.count
            scopeRange = start..<end
            guard line != nil else { return Match(lines: scopeRange) }
        }
        guard let line else { return nil }
        var matching: [Int] = []
        for i in scopeRange where line.prefix.isEmpty || lines[i].hasPrefix(line.prefix) { matching.append(i) }
        guard let at = SDPSelector.pick(matching.count, lineIndex ?? line.index) else { return nil }
        let lineAt = matching[at]
        guard let token else { return Match(lines: lineAt..<(lineAt + 1)) }
        let text = lines[lineAt]
        // Tokens of the value (after `x=`), separated by spaces or `;`.
        var i = text.startIndex
        if text.count >= 2, text[text.index(after: i)] == "=" { i = text.index(i, offsetBy: 2) }
        var tokens: [Range<String.Index>] = []
        while i < text.endIndex {
            while i < text.endIndex, SDPSelector.isSeparator(text[i]) { i = text.index(after: i) }
            guard i < text.endIndex else { break }
            var j = i
            while j < text.endIndex, !SDPSelector.isSeparator(text[j]) { j = text.index(after: j) }
            if token.prefix.isEmpty || text[i..<j].hasPrefix(token.prefix) { tokens.append(i..<j) }
            i = j
        }
        guard let t = SDPSelector.pick(tokens.count, token.index) else { return nil }
        return Match(lines: lineAt..<(lineAt + 1), token: tokens[t])
    }

    private static func isSeparator(_ c: Character) -> Bool { c == " " || c == ";" || c == "\t" }

    /// Reads the selection from `body`; `lineIndex` is the evaluated dynamic line index, if any.
    func read(body value: ScriptValue, lineIndex: Int?) -> ScriptValue {
        guard case .string(let body) = value, !body.isEmpty else { return .null }
        if scope == .body { return .string(body) }
        let lines = SDPSelector.lines(of: body)
        guard let m = locate(lines, lineIndex: lineIndex) else { return .null }
        if scope == .streamIndex { return .int(m.lines.lowerBound) }
        if let t = m.token { return .string(String(lines[m.lines.lowerBound][t])) }
        return .string(lines[m.lines].joined(separator: "\r\n"))
    }

    /// The body after assigning `value` to the selection (NULL deletes the line, stream or token; a
    /// token picked by a prefix keeps the prefix: `a=rtpmap/telephone-event\/` = `"8000"` gives
    /// `telephone-event/8000`); nil when nothing matches. `$sdp = value` replaces the whole body.
    func write(body value: ScriptValue, lineIndex: Int?, _ new: ScriptValue) -> String? {
        if scope == .body { return new.isNull ? "" : new.stringValue }
        guard case .string(let body) = value, !body.isEmpty else { return nil }
        var lines = SDPSelector.lines(of: body)
        guard let m = locate(lines, lineIndex: lineIndex) else { return nil }
        if let t = m.token {
            var text = lines[m.lines.lowerBound]
            if new.isNull {
                // The token and the separators after it (or before it, for the last one).
                var end = t.upperBound
                while end < text.endIndex, SDPSelector.isSeparator(text[end]) { end = text.index(after: end) }
                var start = t.lowerBound
                if end == text.endIndex {
                    while start > text.startIndex, SDPSelector.isSeparator(text[text.index(before: start)]) {
                        start = text.index(before: start)
                    }
                }
                text.removeSubrange(start..<end)
            } else {
                text.replaceSubrange(t, with: (token?.prefix ?? "") + new.stringValue)
            }
            lines[m.lines.lowerBound] = text
        } else if new.isNull {
            lines.removeSubrange(m.lines)
        } else {
            lines.replaceSubrange(m.lines, with: SDPSelector.lines(of: new.stringValue))
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Position `index` (negative from the end) among `count`, or nil when out of range.
    private static func pick(_ count: Int, _ index: Int) -> Int? {
        let i = index >= 0 ? index : count + index
        return i >= 0 && i < count ? i : nil
    }

    /// Non-empty lines of an SDP body, without their line ends.
    static func lines(of body: String) -> [String] {
        // "\r\n" is one Character in Swift: split on any line end.
        body.split(whereSeparator: \.isNewline).map(String.init)
    }
}

/// Why an `$sdp...` filter does not parse.
struct SDPSelectorError: Error, Sendable {
    var reason: String
}
