/// Resolver settings, from the core parameters of the script (OpenSIPS 3.6 names where they exist).
public struct DNSSettings: Sendable, Hashable {
    /// `dns_servers` (a Tandem addition): `"127.0.0.1:5353"`, comma-separated `host[:port]` list that
    /// replaces the name servers of `/etc/resolv.conf`. Empty: the system's.
    public var servers: [String] = []
    /// `dns_try_ipv6`: also ask for AAAA records (default off, as OpenSIPS).
    public var tryIPv6 = false
    /// `dns_try_naptr`: start RFC 3263 with NAPTR when the URI gives neither port nor transport.
    public var tryNAPTR = true
    /// `dns_retr_time`: seconds before a query is retransmitted (nil: the resolver's default).
    public var retransmissionSeconds: Int?
    /// `dns_retr_no`: how many times a query is tried per server (nil: the resolver's default).
    public var retransmissions: Int?
    /// `dns_servers_no`: use at most this many of the configured name servers (nil: all).
    public var serverCount: Int?
    /// `dns_use_search_list`: apply resolv.conf's search domains to names without enough dots.
    public var useSearchList = true
    /// `disable_dns_failover`: when set, a failed branch is not retried on the next DNS target.
    public var disableFailover = false
    /// `disable_dns_blacklist`: when set, failing targets are not avoided.
    public var disableBlacklist = false
    /// Entries the shared cache keeps at most.
    public var cacheCapacity = 10_000
    /// Negative answers (NXDOMAIN/NODATA) are kept at most this long (RFC 2308 §5 advises a cap).
    public var maxNegativeTTL: UInt32 = 300
    /// Negative TTL when the reply carries no SOA.
    public var defaultNegativeTTL: UInt32 = 30

    public init() {}

    /// Parses a `dns_servers` value: `"127.0.0.1:5353"` or `"10.0.0.1,10.0.0.2:5353"`.
    public static func parseServers(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }
}
