/// One Via header value (RFC 3261 §20.42, §18.2.1, RFC 3581 rport).
public struct Via: Sendable, Hashable, CustomStringConvertible {
    /// The `rport` parameter state (RFC 3581).
    public enum RPort: Sendable, Hashable {
        case absent
        /// `;rport` without a value (client asks for it).
        case requested
        case value(UInt16)
    }

    /// Protocol name, normally `SIP`.
    public var protocolName: String
    /// Protocol version, normally `2.0`.
    public var protocolVersion: String
    /// Transport as written, e.g. `UDP`, `TCP`, `TLS`, `SCTP`, `WS`.
    public var transport: String
    /// sent-by host as written (IPv6 references keep their brackets).
    public var host: String
    /// sent-by port, if given.
    public var port: UInt16?
    /// All parameters in order (branch, received, rport, maddr, ttl and others).
    public var parameters: [SIPParameter]

    public init(transport: String, host: String, port: UInt16? = nil, branch: String? = nil) {
        protocolName = "SIP"
        protocolVersion = "2.0"
        self.transport = transport
        self.host = host
        self.port = port
        parameters = []
        if let branch { parameters.append(SIPParameter(name: "branch", value: branch)) }
    }

    /// Parses one Via value (`sent-protocol LWS sent-by *( SEMI via-params )`).
    public init(parsing text: String) throws(SIPParseError) {
        try self.init(parsing: Array(text.utf8)[...])
    }

    init(parsing v: ArraySlice<UInt8>) throws(SIPParseError) {
        var i = v.startIndex
        func token() throws(SIPParseError) -> String {
            skipSpace(v, &i)
            let s = i
            while i < v.endIndex, isTokenChar(v[i]) { i += 1 }
            guard i > s else { throw SIPParseError(.badVia) }
            return makeString(v[s..<i])
        }
        func slash() throws(SIPParseError) {
            skipSpace(v, &i)
            guard i < v.endIndex, v[i] == ASCII.slash else { throw SIPParseError(.badVia) }
            i += 1
        }
        protocolName = try token()
        try slash()
        protocolVersion = try token()
        try slash()
        transport = try token()
        let beforeHost = i
        skipSpace(v, &i)
        guard i > beforeHost, i < v.endIndex else { throw SIPParseError(.badVia) }
        guard let (h, afterHost) = scanHost(v, from: i) else { throw SIPParseError(.badVia) }
        host = h
        i = afterHost
        (port, i) = try scanViaPort(v, from: i)
        guard let params = parseHeaderParams(v, from: i) else { throw SIPParseError(.badVia) }
        parameters = params
        if case .some(.some(let t)) = parameters.value(of: "ttl"), UInt8(t) == nil { throw SIPParseError(.badVia) }
        if case .some(.some(let r)) = parameters.value(of: "rport"), UInt16(r) == nil { throw SIPParseError(.badVia) }
    }

    /// The branch parameter.
    public var branch: String? {
        get { parameters.value(of: "branch") ?? nil }
        set { if let newValue { parameters.set("branch", newValue) } else { parameters.remove(named: "branch") } }
    }

    /// The received parameter.
    public var received: String? {
        get { parameters.value(of: "received") ?? nil }
        set { if let newValue { parameters.set("received", newValue) } else { parameters.remove(named: "received") } }
    }

    /// The rport parameter.
    public var rport: RPort {
        get {
            switch parameters.value(of: "rport") {
            case .none: return .absent
            case .some(.none): return .requested
            case .some(.some(let v)): return UInt16(v).map { .value($0) } ?? .requested
            }
        }
        set {
            switch newValue {
            case .absent: parameters.remove(named: "rport")
            case .requested: parameters.set("rport", nil)
            case .value(let p): parameters.set("rport", String(p))
            }
        }
    }

    /// The maddr parameter.
    public var maddr: String? { parameters.value(of: "maddr") ?? nil }

    /// The ttl parameter.
    public var ttl: UInt8? { (parameters.value(of: "ttl") ?? nil).flatMap { UInt8($0) } }

    /// True if the branch starts with the RFC 3261 magic cookie `z9hG4bK`.
    public var hasMagicCookie: Bool { branch.map(Branch.isRFC3261) ?? false }

    /// `host[:port]` as written.
    public var sentBy: String { port.map { "\(host):\($0)" } ?? host }

    /// Serialized value, e.g. `SIP/2.0/UDP host:5060;branch=z9hG4bK...`.
    public var description: String { "\(protocolName)/\(protocolVersion)/\(transport) \(sentBy)\(parameters.serialized)" }
}

/// Reads the optional `: port` after a Via's sent-by host at `i`: the port (nil when absent) and the index
/// after it (`i` itself when absent). A colon without a port of 0–65535 is `.badVia`.
func scanViaPort(_ v: ArraySlice<UInt8>, from i: Int) throws(SIPParseError) -> (UInt16?, Int) {
    var j = i
    skipSpace(v, &j)
    guard j < v.endIndex, v[j] == ASCII.colon else { return (nil, i) }
    j += 1
    skipSpace(v, &j)
    let ps = j
    while j < v.endIndex, isDigit(v[j]) { j += 1 }
    guard let p = v.parseDecimal(ps..<j), p <= 65535 else { throw SIPParseError(.badVia) }
    return (UInt16(p), j)
}

/// Scans a host (hostname, IPv4 or `[IPv6]`) starting at `i`; returns it and the index after it.
func scanHost(_ v: ArraySlice<UInt8>, from i: Int) -> (String, Int)? {
    guard let j = scanHostEnd(v, from: i) else { return nil }
    return (makeString(v[i..<j]), j)
}

/// Where the host `scanHost` reads from `i` ends (nil where it finds none), without making its text.
func scanHostEnd(_ v: ArraySlice<UInt8>, from i: Int) -> Int? {
    var j = i
    guard j < v.endIndex else { return nil }
    if v[j] == ASCII.lbracket {
        while j < v.endIndex, v[j] != ASCII.rbracket {
            let b = v[j]
            guard b == ASCII.lbracket || isHex(b) || b == ASCII.colon || b == ASCII.dot else { return nil }
            j += 1
        }
        guard j < v.endIndex else { return nil }
        j += 1
    } else {
        while j < v.endIndex, isAlnum(v[j]) || v[j] == 45 || v[j] == ASCII.dot || v[j] == 95 { j += 1 }
    }
    guard j > i else { return nil }
    return j
}
