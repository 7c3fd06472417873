/// A DNS question: a lower-cased name (no trailing dot) and a record type. The cache key.
public struct DNSQuestion: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let type: DNSRecordType

    public init(_ name: some StringProtocol, _ type: DNSRecordType) {
        var n = name.lowercased()
        if n.hasSuffix(".") { n.removeLast() }
        self.name = n
        self.type = type
    }

    public var description: String { "\(type) \(name)" }
}
