import SIPCore

/// One entry of a request's branch set (`append_branch`, `lookup("location")`): where an extra copy of
/// the request goes when `t_relay()` forks. The Request-URI with `$du` is always branch 0; these follow.
public struct BranchTarget: Sendable, Equatable {
    /// The branch's Request-URI.
    public var uri: String
    /// q-value in thousandths (0…1000), nil when none was given.
    public var q: Int?
    /// The branch's own `$du`.
    public var destinationURI: String?
    /// The Path vector (RFC 3327) the branch is routed along: Route values, first hop first.
    public var path: [String]
    /// Branch flags.
    public var flags: UInt64
    /// The listen socket this branch leaves from (its forced send socket: `$msg.branch.socket`,
    /// `$branch(socket)`, `force_send_socket()` before `append_branch`, a contact's UDP socket at
    /// `lookup`); nil: chosen by the next hop's transport and address family.
    public var socketIndex: Int?
    /// `$msg.branch.attr(name)` values.
    public var attributes: [String: BranchAttribute] = [:]

    public init(uri: String, q: Int? = nil, destinationURI: String? = nil, path: [String] = [], flags: UInt64 = 0,
                socketIndex: Int? = nil) {
        self.uri = uri
        self.q = q
        self.destinationURI = destinationURI
        self.path = path
        self.flags = flags
        self.socketIndex = socketIndex
    }

    /// The request `original` as sent on this branch: its Request-URI replaced and the Path set put in
    /// front of its Route set.
    public func request(from original: SIPMessage) -> SIPMessage {
        var message = original
        message.setRequestURI(uri)
        for hop in path.reversed() { message.prependHeader(.route, hop) }
        return message
    }

    /// A q-value as scripts and Contact headers write it (`"0.5"`, `"1"`, `500`) in thousandths; nil if
    /// it is not one.
    public static func parseQ(_ text: String) -> Int? {
        let trimmed = text.trimmingSpacesForQ()
        if let whole = Int(trimmed) {
            // An integer above 1 is already in thousandths (OpenSIPS's internal form).
            return whole <= 1 ? whole * 1000 : (whole <= 1000 ? whole : nil)
        }
        let parts = trimmed.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let units = Int(parts[0].isEmpty ? "0" : parts[0]), units >= 0, units <= 1,
              parts[1].count <= 3, parts[1].allSatisfy(\.isNumber) else { return nil }
        var fraction = String(parts[1])
        while fraction.count < 3 { fraction += "0" }
        let value = units * 1000 + (Int(fraction) ?? 0)
        return value <= 1000 ? value : nil
    }

    /// A q-value in thousandths as text (`500` → `"0.5"`, `1000` → `"1"`).
    public static func formatQ(_ q: Int) -> String {
        if q >= 1000 { return "1" }
        if q <= 0 { return "0" }
        var fraction = String(q)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "0." + fraction
    }
}

/// A value of `$msg.branch.attr(name)`: an integer or a string.
public enum BranchAttribute: Sendable, Equatable {
    case int(Int)
    case string(String)
}

extension String {
    fileprivate func trimmingSpacesForQ() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
