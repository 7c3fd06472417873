/// A `tel:` URI (RFC 3966): the number and its parameters, kept as written.
public struct TelURI: Sendable, Hashable, CustomStringConvertible {
    /// The telephone number (global `+...` or local digits), as written.
    public var number: String
    public var parameters: [SIPParameter]

    public init(number: String, parameters: [SIPParameter] = []) {
        self.number = number
        self.parameters = parameters
    }

    /// Parses `tel:number;params`.
    public init(parsing text: String) throws(SIPParseError) {
        let v = Array(text.utf8)[...]
        guard v.count > 4, v.equalsLowercase(0..<4, "tel:") else { throw SIPParseError(.badURI) }
        var i = 4
        while i < v.endIndex, v[i] != ASCII.semicolon {
            let b = v[i]
            guard isHex(b) || b == 43 || b == 45 || b == 46 || b == 40 || b == 41 || b == 42 || b == 35 || b == 112 || b == 119 || b == 80 || b == 87 else {
                throw SIPParseError(.badURI)
            }
            i += 1
        }
        guard i > 4 else { throw SIPParseError(.badURI) }
        number = makeString(v[4..<i])
        parameters = []
        while i < v.endIndex, v[i] == ASCII.semicolon {
            i += 1
            let ns = i
            while i < v.endIndex, v[i] != ASCII.semicolon, v[i] != ASCII.equals { i += 1 }
            guard i > ns else { throw SIPParseError(.badURI) }
            let name = makeString(v[ns..<i])
            var value: String? = nil
            if i < v.endIndex, v[i] == ASCII.equals {
                let vs = i + 1
                i = vs
                while i < v.endIndex, v[i] != ASCII.semicolon { i += 1 }
                value = makeString(v[vs..<i])
            }
            parameters.append(SIPParameter(name: name, value: value))
        }
    }

    /// True for a global number (`+` prefix).
    public var isGlobal: Bool { number.hasPrefix("+") }

    public var description: String { "tel:\(number)\(parameters.serialized)" }
}
