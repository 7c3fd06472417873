/// What a next hop needs of a `sip:` / `sips:` URI: whether it is secure, its host and port, and its
/// `maddr`. Read from the URI's bytes without building the ``SIPURI`` (its text, unescaped user part and
/// parameter array): `loose_route()` and `t_relay()` ask it of the Request-URI and the top Route of
/// every request they handle.
public struct SIPURIAddress: Sendable, Equatable {
    /// True for `sips:` (``SIPURI/isSecure``).
    public let isSecure: Bool
    /// Host as written, IPv6 references with their brackets (``SIPURI/host``).
    public let host: String
    /// Port, if given (``SIPURI/port``).
    public let port: UInt16?
    /// The value of the first `maddr` parameter (nil when there is none or it has no value), as
    /// ``SIPURI/maddr`` reads it.
    public let maddr: String?

    public init(isSecure: Bool, host: String, port: UInt16?, maddr: String?) {
        self.isSecure = isSecure
        self.host = host
        self.port = port
        self.maddr = maddr
    }

    /// The parts of a parsed URI.
    public init(_ uri: SIPURI) {
        self.init(isSecure: uri.isSecure, host: uri.host, port: uri.port, maddr: uri.maddr)
    }

    /// Host without IPv6 brackets, as ``SIPURI/bareHost``.
    public var bareHost: Substring {
        if host.hasPrefix("["), host.hasSuffix("]") { return host.dropFirst().dropLast() }
        return host[...]
    }

    /// `(try? URI(parsing: v))?.sipURI` reduced to its address: nil when `v` is not a URI or not a SIP
    /// one. The same grammar (``URI/isValid(_:)``), then the parts read as ``SIPURI/init(parsing:text:)``
    /// delimits them.
    static func read(_ v: ArraySlice<UInt8>) -> SIPURIAddress? {
        URI.isValid(v) ? read(valid: v) : nil
    }

    /// ``read(_:)`` of a URI that ``URI/isValid(_:)`` accepted.
    static func read(valid v: ArraySlice<UInt8>) -> SIPURIAddress? {
        guard let scheme = SIPURI.scheme(of: v) else { return nil }  // a valid URI of another scheme
        let secure = scheme.isSecure
        var i = scheme.rest
        if let at = v[i...].firstIndex(of: ASCII.at) { i = at + 1 }
        guard let afterHost = scanHostEnd(v, from: i) else { return nil }
        let host = makeString(v[i..<afterHost])
        i = afterHost
        var port: UInt16? = nil
        if i < v.endIndex, v[i] == ASCII.colon {
            let ps = i + 1
            i = ps
            while i < v.endIndex, isDigit(v[i]) { i += 1 }
            guard let p = v.parseDecimal(ps..<i), p <= 65535 else { return nil }
            port = UInt16(p)
        }
        // As `parameters.value(of: "maddr") ?? nil`: the first parameter so named decides.
        var maddrSeen = false
        var maddr: String? = nil
        while i < v.endIndex, v[i] == ASCII.semicolon {
            i += 1
            let ns = i
            while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.question { i += 1 }
            let name = ns..<i
            var value: Range<Int>? = nil
            if i < v.endIndex, v[i] == ASCII.equals {
                i += 1
                let vs = i
                while i < v.endIndex, URIEscaping.isParamChar(v[i]) && v[i] != ASCII.question { i += 1 }
                value = vs..<i
            }
            if !maddrSeen, v.equalsLowercase(name, "maddr") {
                maddrSeen = true
                maddr = value.map { makeString(v[$0]) }
            }
        }
        return SIPURIAddress(isSecure: secure, host: host, port: port, maddr: maddr)
    }
}

/// The Route set as `try? routes()` sees it, without building the name-addrs.
public struct RouteSetSummary: Sendable, Equatable {
    /// Number of Route values (`routes().count`).
    public let count: Int
    /// The address of the first Route's URI (`routes().first?.uri.sipURI`); nil when there is no Route
    /// or the first is not a SIP URI.
    public let first: SIPURIAddress?
}

extension SIPMessage {
    /// `(try? requestURI())??.sipURI` reduced to ``SIPURIAddress`` (nil for a response, a Request-URI
    /// that does not parse or is not a SIP URI), without building the URI.
    public func requestSIPURIAddress() -> SIPURIAddress? {
        if let u = newRequestURI { return SIPURIAddress.read(u[...]) }
        if case .request(_, let r) = start { return SIPURIAddress.read(bytes[r]) }
        return nil
    }

    /// `try? routes()` summarized: nil when a Route value does not parse (``routes()`` throws), else the
    /// number of values and the first one's address. Each value is checked as ``NameAddr/validate(_:)``
    /// does; only the first URI's parts are read.
    public func routeSetSummary() -> RouteSetSummary? {
        let code = HeaderName.route.code
        var count = 0
        var first: SIPURIAddress? = nil
        for f in fields where fieldMatches(f, .route, code: code) {
            // The values of `rawValues(.route)`: `splitTopLevel` of each line, empty elements included.
            let v = valueBytes(f)
            let all = v.trimmedRange(v.startIndex..<v.endIndex)
            if all.isEmpty { continue }
            var start = all.lowerBound
            while true {
                let comma = nextTopLevelComma(v, from: start, to: all.upperBound)
                let element = v[v.trimmedRange(start..<(comma ?? all.upperBound))]
                guard let parts = try? NameAddr.scan(element), URI.isValid(element[parts.uri]),
                      headerParamsAreValid(element, from: parts.paramsStart) else { return nil }
                if count == 0 { first = SIPURIAddress.read(valid: element[parts.uri]) }
                count += 1
                guard let comma else { break }
                start = comma + 1
            }
        }
        return RouteSetSummary(count: count, first: first)
    }
}
