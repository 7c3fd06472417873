/// A `sip:` or `sips:` URI (RFC 3261 §19.1).
///
/// `user` and `password` are unescaped; parameter and header values are kept as written.
/// A parsed URI that is not modified serializes to exactly its original text.
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    /// True for `sips:`.
    public var isSecure: Bool { didSet { original = nil } }
    /// User part, unescaped (may contain any byte, e.g. NUL from `%00`).
    public var user: String? { didSet { original = nil } }
    /// Password, unescaped.
    public var password: String? { didSet { original = nil } }
    /// Host as written; IPv6 references keep their brackets (`[2001:db8::1]`).
    public var host: String { didSet { original = nil } }
    public var port: UInt16? { didSet { original = nil } }
    /// URI parameters (`transport`, `lr`, `maddr`, `ttl`, `user`, `method`, ...), in order.
    public var parameters: [SIPParameter] { didSet { original = nil } }
    /// URI headers after `?`, in order (values escaped as written).
    public var headers: [SIPParameter] { didSet { original = nil } }
    /// Original text while unmodified.
    private var original: String?

    public init(user: String? = nil, host: String, port: UInt16? = nil, parameters: [SIPParameter] = [], secure: Bool = false) {
        isSecure = secure
        self.user = user
        password = nil
        self.host = host
        self.port = port
        self.parameters = parameters
        headers = []
        original = nil
    }

    /// Parses `sip:` / `sips:` URI text.
    public init(parsing text: String) throws(SIPParseError) {
        try self.init(parsing: Array(text.utf8)[...], text: text)
    }

    /// Parses the URI in `v`; `text` is the same URI as a String when the caller has one (kept as the
    /// original text instead of decoding `v` again).
    init(parsing v: ArraySlice<UInt8>, text: String? = nil) throws(SIPParseError) {
        guard let scheme = SIPURI.scheme(of: v) else { throw SIPParseError(.badURI) }
        isSecure = scheme.isSecure
        var i = scheme.rest
        user = nil
        password = nil
        port = nil
        parameters = []
        headers = []
        original = text ?? makeString(v)
        // userinfo ends at the first '@' (a raw '@' cannot occur elsewhere).
        if let at = v[i...].firstIndex(of: ASCII.at) {
            let ui = v[i..<at]
            let colon = ui.firstIndex(of: ASCII.colon)
            let userPart = ui[ui.startIndex..<(colon ?? ui.endIndex)]
            guard !userPart.isEmpty, SIPURI.validEscaped(userPart, URIEscaping.isUserChar) else { throw SIPParseError(.badURI) }
            user = makeString(URIEscaping.unescapeBytes(userPart))
            if let c = colon {
                let pw = ui[(c + 1)...]
                guard SIPURI.validEscaped(pw, URIEscaping.isPasswordChar) else { throw SIPParseError(.badURI) }
                password = makeString(URIEscaping.unescapeBytes(pw))
            }
            i = at + 1
        }
        guard let (h, afterHost) = scanHost(v, from: i) else { throw SIPParseError(.badURI) }
        host = h
        i = afterHost
        if i < v.endIndex, v[i] == ASCII.colon {
            let ps = i + 1
            i = ps
            while i < v.endIndex, isDigit(v[i]) { i += 1 }
            guard let p = v.parseDecimal(ps..<i), p <= 65535 else { throw SIPParseError(.badURI) }
            port = UInt16(p)
        }
        while i < v.endIndex, v[i] == ASCII.semicolon {
            i += 1
            let ns = i
            while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.question { i += 1 }
            guard i > ns else { throw SIPParseError(.badURI) }
            let name = makeString(v[ns..<i])
            var value: String? = nil
            if i < v.endIndex, v[i] == ASCII.equals {
                i += 1
                let vs = i
                while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.question { i += 1 }
                guard i > vs else { throw SIPParseError(.badURI) }
                value = makeString(v[vs..<i])
            }
            parameters.append(SIPParameter(name: name, value: value))
        }
        if i < v.endIndex, v[i] == ASCII.question {
            i += 1
            while true {
                let ns = i
                while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.ampersand && v[i] != ASCII.question { i += 1 }
                guard i > ns, i < v.endIndex, v[i] == ASCII.equals else { throw SIPParseError(.badURI) }
                let name = makeString(v[ns..<i])
                i += 1
                let vs = i
                while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.ampersand { i += 1 }
                headers.append(SIPParameter(name: name, value: makeString(v[vs..<i])))
                if i < v.endIndex, v[i] == ASCII.ampersand { i += 1; continue }
                break
            }
        }
        guard i == v.endIndex else { throw SIPParseError(.badURI) }
    }

    /// Checks that every byte is allowed or part of a `%HH` escape.
    static func validEscaped(_ v: ArraySlice<UInt8>, _ allowed: (UInt8) -> Bool) -> Bool {
        var i = v.startIndex
        while i < v.endIndex {
            let b = v[i]
            if b == ASCII.percent {
                guard i + 2 < v.endIndex, isHex(v[i + 1]), isHex(v[i + 2]) else { return false }
                i += 3
                continue
            }
            guard allowed(b) else { return false }
            i += 1
        }
        return true
    }

    /// Host without IPv6 brackets (for address resolution).
    public var bareHost: Substring {
        if host.hasPrefix("["), host.hasSuffix("]") { return host.dropFirst().dropLast() }
        return host[...]
    }

    /// True if the host is an IPv6 reference.
    public var isIPv6: Bool { host.hasPrefix("[") }

    /// Value of URI parameter `name` (`.some(nil)` for valueless ones such as `lr`).
    public func parameter(_ name: String) -> String?? { parameters.value(of: name) }

    /// True if the `lr` parameter is present (loose routing).
    public var isLooseRouter: Bool { parameters.first(named: "lr") != nil }

    /// The `transport` parameter.
    public var transport: String? { parameters.value(of: "transport") ?? nil }

    /// The `maddr` parameter.
    public var maddr: String? { parameters.value(of: "maddr") ?? nil }

    /// The `ttl` parameter.
    public var ttl: UInt8? { (parameters.value(of: "ttl") ?? nil).flatMap { UInt8($0) } }

    /// The `user` parameter (e.g. `phone`).
    public var userParam: String? { parameters.value(of: "user") ?? nil }

    /// The `method` parameter.
    public var methodParam: String? { parameters.value(of: "method") ?? nil }

    /// Serialized URI text (the original text if unmodified).
    public var description: String {
        if let o = original { return o }
        var s = isSecure ? "sips:" : "sip:"
        if let u = user {
            s += URIEscaping.escape(u, allowed: URIEscaping.isUserChar)
            if let p = password { s += ":" + URIEscaping.escape(p, allowed: URIEscaping.isPasswordChar) }
            s += "@"
        }
        s += host
        if let p = port { s += ":\(p)" }
        s += parameters.serialized
        for (n, h) in headers.enumerated() {
            s += n == 0 ? "?" : "&"
            s += "\(h.name)=\(h.value ?? "")"
        }
        return s
    }

    public static func == (a: SIPURI, b: SIPURI) -> Bool { a.description == b.description }
    public func hash(into h: inout Hasher) { h.combine(description) }
}
