import Reactor

/// The addresses of a host name, looked up once on the calling thread: `/etc/hosts` first, then A and
/// AAAA questions to the configured servers (each bounded by `timeoutMs`). For start-up work only, e.g.
/// the host names a routing script compares addresses with; never on the packet path.
public enum HostAddressLookup {
    /// The addresses of `name` as IP text, hosts-file entries first, without duplicates; empty when the
    /// name does not resolve (or every server failed).
    public static func addresses(of name: String, settings: DNSSettings, hosts: [String: [SocketAddress]],
                                 timeoutMs: UInt64 = 2_000) -> [String] {
        var found: [String] = []
        func add(_ ip: String) { if !found.contains(ip) { found.append(ip) } }
        for address in hosts[name.lowercased()] ?? [] { add(address.ip) }
        guard found.isEmpty else { return found }
        for type in [DNSRecordType.a, .aaaa] {
            let answer = AresBlockingQuery.run(DNSQuestion(name, type), settings: settings, timeoutMs: timeoutMs)
            for record in answer.records { if case .address(let address) = record { add(address.ip) } }
        }
        return found
    }
}
