/// URI comparison rules of RFC 3261 §19.1.4.
extension SIPURI {
    /// True if the two URIs are equivalent per RFC 3261 §19.1.4: same scheme; user and password
    /// compared case-sensitively after unescaping; host case-insensitively; ports equal (an absent
    /// port does not match an explicit one); `user`, `ttl`, `method`, `maddr`, `transport`
    /// parameters must match when present in either; other parameters only when present in both;
    /// headers must match as sets (names case-insensitive).
    public func isEquivalent(to o: SIPURI) -> Bool {
        guard isSecure == o.isSecure, user == o.user, password == o.password, port == o.port,
              SIPURI.eqIgnoringCase(host, o.host) else { return false }
        for name in ["user", "ttl", "method", "maddr", "transport"] {
            let a = parameters.value(of: name), b = o.parameters.value(of: name)
            switch (a, b) {
            case (nil, nil): continue
            case (.some(let x), .some(let y)):
                guard SIPURI.eqIgnoringCase(URIEscaping.unescape(x ?? ""), URIEscaping.unescape(y ?? "")), (x == nil) == (y == nil) else { return false }
            default: return false
            }
        }
        for p in parameters {
            guard let q = o.parameters.first(named: p.name) else { continue }
            guard SIPURI.eqIgnoringCase(URIEscaping.unescape(p.value ?? ""), URIEscaping.unescape(q.value ?? "")),
                  (p.value == nil) == (q.value == nil) else { return false }
        }
        guard headers.count == o.headers.count else { return false }
        for h in headers {
            guard let g = o.headers.first(named: h.name),
                  URIEscaping.unescape(h.value ?? "") == URIEscaping.unescape(g.value ?? "") else { return false }
        }
        return true
    }

    static func eqIgnoringCase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8, by: { asciiLower($0) == asciiLower($1) })
    }
}
