/// Static facts about one known header: canonical spelling, compact form, list-valuedness.
struct HeaderInfo: Sendable {
    let name: HeaderName
    let canonical: String
    let compact: UInt8?
    /// Whether the header's grammar is a comma-separated list (`headerValues` splits only those).
    let isList: Bool
}
