/// The outcome of one DNS question (name + type), as the cache keeps it.
public enum DNSAnswer: Sendable, Hashable {
    /// Records of the asked type (CNAMEs followed by the server), with the smallest TTL among them.
    case records([DNSRecord], ttl: UInt32)
    /// NXDOMAIN or NODATA (RFC 2308), with the negative TTL (SOA minimum, capped by the settings).
    case negative(nxdomain: Bool, ttl: UInt32)
    /// No usable answer: timeout, SERVFAIL, REFUSED, a malformed reply. Never cached.
    case failure(DNSFailure)

    /// The records, empty for a negative answer or a failure.
    public var records: [DNSRecord] {
        if case .records(let records, _) = self { return records }
        return []
    }
}

/// Why a question got no answer.
public enum DNSFailure: Sendable, Hashable {
    /// Every try of every server timed out (`dns_retr_time` × `dns_retr_no`).
    case timeout
    /// The server answered SERVFAIL, REFUSED or another error code.
    case serverError
    /// The reply could not be parsed, or c-ares failed locally.
    case malformed
    /// The resolver was shut down before the answer came.
    case cancelled
}
