/// A digest algorithm of RFC 7616: MD5 (RFC 2617, what most SIP endpoints implement) or SHA-256.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case md5 = "MD5"
    case sha256 = "SHA-256"

    /// From the `algorithm` parameter (case-insensitive); nil for one Tandem does not implement.
    public init?(name: String) {
        switch name.trimmingSpaces().uppercased() {
        case "MD5": self = .md5
        case "SHA-256": self = .sha256
        default: return nil
        }
    }

    /// The hash of `text` as lower-case hex.
    public func hash(_ text: String) -> String { hash(Array(text.utf8)) }

    /// The hash of `bytes` as lower-case hex.
    public func hash(_ bytes: [UInt8]) -> String {
        let digest = self == .md5 ? MD5.digest(bytes) : SHA256.digest(bytes)
        return DigestAuth.hex(digest)
    }
}
