/// A TLS protocol version Tandem can negotiate (OpenSSL 3 as Debian builds it refuses TLS 1.0 and 1.1).
public enum TLSVersion: Int, Sendable, Comparable, CustomStringConvertible {
    case tls1_2 = 0x0303
    case tls1_3 = 0x0304

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `TLSv1.2` / `TLSv1.3`, as OpenSSL names them.
    public var description: String { self == .tls1_2 ? "TLSv1.2" : "TLSv1.3" }
}

/// The versions a TLS context accepts, from the `tls_mgm` `tls_method` value.
///
/// ```swift
/// TLSVersionRange.parse("TLSv1_2")            // exactly 1.2
/// TLSVersionRange.parse("SSLv23")             // 1.2 and up
/// TLSVersionRange.parse("TLSv1_2-TLSv1_3")    // a range; "TLSv1_3-" and "-TLSv1_2" are open ranges
/// ```
public struct TLSVersionRange: Sendable, Equatable, CustomStringConvertible {
    /// Lowest version accepted.
    public var minimum: TLSVersion
    /// Highest version accepted.
    public var maximum: TLSVersion

    /// The range from `minimum` to `maximum` (both included).
    public init(minimum: TLSVersion = .tls1_2, maximum: TLSVersion = .tls1_3) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Every version Tandem supports: TLS 1.2 and 1.3.
    public static let all = TLSVersionRange()

    public var description: String {
        minimum == maximum ? minimum.description : "\(minimum)-\(maximum)"
    }

    /// Why a `tls_method` value was refused.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// TLS 1.0 / 1.1: known to OpenSIPS, refused by OpenSSL 3's default security level.
        case obsolete(String)
        /// Not a method name.
        case unknown(String)
        /// A range whose start is above its end.
        case emptyRange(String)

        public var description: String {
            switch self {
            case .obsolete(let name):
                "'\(name)' (TLS 1.0/1.1) is refused by OpenSSL 3's security level: use TLSv1_2, TLSv1_3, SSLv23 or a range like TLSv1_2-TLSv1_3"
            case .unknown(let name):
                "'\(name)' is not a TLS method (TLSv1_2, TLSv1_3, SSLv23, or a range like TLSv1_2-TLSv1_3)"
            case .emptyRange(let text):
                "'\(text)': the range's first version is above its last"
            }
        }
    }

    /// The range a `tls_method` value names (case-insensitive; `.` and `_` both accepted: `TLSv1.2`).
    public static func parse(_ text: String) throws(ParseError) -> TLSVersionRange {
        let value = text.trimmingWhitespace()
        if let dash = value.firstIndex(of: "-") {
            let low = String(value[..<dash]).trimmingWhitespace()
            let high = String(value[value.index(after: dash)...]).trimmingWhitespace()
            let minimum = try low.isEmpty ? TLSVersion.tls1_2 : single(low)
            let maximum = try high.isEmpty ? TLSVersion.tls1_3 : single(high)
            guard minimum <= maximum else { throw .emptyRange(value) }
            return TLSVersionRange(minimum: minimum, maximum: maximum)
        }
        switch value.lowercased() {
        case "sslv23", "any", "tls": return .all
        default:
            let version = try single(value)
            return TLSVersionRange(minimum: version, maximum: version)
        }
    }

    private static func single(_ name: String) throws(ParseError) -> TLSVersion {
        switch name.lowercased().replacingDots() {
        case "tlsv1_2": return .tls1_2
        case "tlsv1_3": return .tls1_3
        case "tlsv1", "tlsv1_0", "tlsv1_1", "sslv3", "sslv2": throw .obsolete(name)
        default: throw .unknown(name)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }

    fileprivate func replacingDots() -> String {
        String(map { $0 == "." ? "_" : $0 })
    }
}
