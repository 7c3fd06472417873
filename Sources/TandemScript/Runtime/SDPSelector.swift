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
/// Absent lines, streams or tokens read as NULL. Assignment is not supported yet.
struct SDPSelector: Sendable {
    enum Scope: Sendable { case body, line, session, stream }
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
        if scope == .stream {
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
        if scope != .stream && sel.line == nil { return .failure(SDPSelectorError(reason: "needs a line filter, e.g. (a=ptime)")) }
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

    /// Reads the selection from `body`; `lineIndex` is the evaluated dynamic line index, if any.
    func read(body value: ScriptValue, lineIndex: Int?) -> ScriptValue {
        guard case .string(let body) = value, !body.isEmpty else { return .null }
        if scope == .body { return .string(body) }
        var lines = SDPSelector.lines(of: body)
        switch scope {
        case .body, .line:
            break
        case .session:
            if let m = lines.firstIndex(where: { $0.hasPrefix("m=") }) { lines.removeSubrange(m...) }
        case .stream:
            guard let stream else { return .null }
            var starts: [Int] = []
            for (i, l) in lines.enumerated() where l.hasPrefix("m=") && l.dropFirst(2).hasPrefix(stream.prefix) {
                starts.append(i)
            }
            guard let at = SDPSelector.pick(starts.count, stream.index) else { return .null }
            let start = starts[at]
            let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("m=") }) ?? lines.count
            lines = Array(lines[start..<end])
            guard line != nil else { return .string(lines.joined(separator: "\r\n")) }
        }
        guard let line else { return .null }
        let matching = line.prefix.isEmpty ? lines : lines.filter { $0.hasPrefix(line.prefix) }
        guard let at = SDPSelector.pick(matching.count, lineIndex ?? line.index) else { return .null }
        let text = matching[at]
        guard let token else { return .string(text) }
        let value = text.count >= 2 && text.dropFirst().hasPrefix("=") ? text.dropFirst(2) : Substring(text)
        let tokens = value.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "\t" })
            .filter { token.prefix.isEmpty || $0.hasPrefix(token.prefix) }
        guard let t = SDPSelector.pick(tokens.count, token.index) else { return .null }
        return .string(String(tokens[t]))
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
