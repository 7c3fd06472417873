import TandemScript

/// In-memory ScriptMessage for unit tests.
final class TestMessage: ScriptMessage {
    var values: [MessagePV: ScriptValue] = [:]
    var headers: [(name: String, value: String)] = []
    var isRequest = true
    var method = "INVITE"
    var hasToTag = false
    var flags: UInt64 = 0
    var appended: [String] = []
    var inserted: [String] = []

    init(method: String = "INVITE", ruri: String = "sip:alice@example.com") {
        self.method = method
        values[.method] = .string(method)
        values[.requestURI] = .string(ruri)
        values[.callID] = .string("call-1@host")
        values[.sourceIP] = .string("10.0.0.1")
        values[.sourcePort] = .int(5060)
        values[.fromURI] = .string("sip:bob@example.org")
        headers = [("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1"), ("Via", "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2"),
                   ("Max-Forwards", "70"), ("User-Agent", "tester")]
    }

    func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        if pv == .header, let name {
            let matches = headers.filter { $0.name.lowercased() == name.lowercased() }
            let i = index ?? 0
            let pos = i >= 0 ? i : matches.count + i
            guard pos >= 0 && pos < matches.count else { return .null }
            return .string(matches[pos].value)
        }
        return values[pv] ?? .null
    }

    func set(_ pv: MessagePV, value: ScriptValue) -> Bool {
        guard pv.isWritable else { return false }
        values[pv] = value
        return true
    }

    var rawText: String { values[.message]?.stringValue ?? "" }

    func replaceRaw(_ text: String) -> Bool {
        values[.message] = .string(text)
        return true
    }

    func replaceBody(_ text: String) -> Bool {
        values[.body] = .string(text)
        return true
    }

    func appendHeader(_ raw: String) {
        appended.append(raw)
        if let colon = raw.firstIndex(of: ":") {
            let name = String(raw[..<colon])
            var value = String(raw[raw.index(after: colon)...])
            while value.hasPrefix(" ") { value.removeFirst() }
            while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
            headers.append((name, value))
        }
    }

    func insertHeader(_ raw: String) {
        inserted.append(raw)
        if let colon = raw.firstIndex(of: ":") {
            headers.insert((String(raw[..<colon]), String(raw[raw.index(after: colon)...]).trimmingCharacters()), at: 0)
        }
    }

    func removeHeader(named name: String) -> Int {
        let before = headers.count
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        return before - headers.count
    }

    var headerNames: [String] { headers.map(\.name) }

    func isHeaderPresent(named name: String) -> Bool { headers.contains { $0.name.lowercased() == name.lowercased() } }

    func replaceHeader(named name: String, value: String) -> Bool {
        guard let i = headers.firstIndex(where: { $0.name.lowercased() == name.lowercased() }) else { return false }
        headers[i].value = value
        return true
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " { s = s.dropFirst() }
        while let l = s.last, l == "\r" || l == "\n" || l == " " { s = s.dropLast() }
        return String(s)
    }
}
