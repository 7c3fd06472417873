import DNSResolver
import Reactor
import TandemScript

extension ServerConfiguration {
    /// Global parameters that configure the resolver (OpenSIPS 3.6 names, plus Tandem's `dns_servers`).
    static let dnsGlobals: Set<String> = [
        "dns_servers", "dns_try_ipv6", "dns_try_naptr", "dns_retr_time", "dns_retr_no", "dns_servers_no",
        "dns_use_search_list", "disable_dns_failover", "disable_dns_blacklist",
    ]

    /// The resolver settings of a script: `dns_servers = "127.0.0.1:5353"` replaces resolv.conf's
    /// name servers; `dns_retr_time` (s), `dns_retr_no`, `dns_servers_no`, `dns_try_ipv6`,
    /// `dns_try_naptr`, `dns_use_search_list`, `disable_dns_failover`, `disable_dns_blacklist`.
    public static func dnsSettings(for config: ScriptConfig) -> (DNSSettings?, [Diagnostic]) {
        var settings = DNSSettings()
        var diagnostics: [Diagnostic] = []
        for param in config.globals where dnsGlobals.contains(param.name) {
            func number(_ range: ClosedRange<Int>) -> Int? {
                guard let v = param.value.intValue, range.contains(v) else {
                    diagnostics.append(Diagnostic(param.location,
                        "\(param.name) must be a number from \(range.lowerBound) to \(range.upperBound)"))
                    return nil
                }
                return v
            }
            func flag() -> Bool? {
                switch param.value.description.lowercased() {
                case "1", "yes", "on", "true": return true
                case "0", "no", "off", "false": return false
                default:
                    diagnostics.append(Diagnostic(param.location, "\(param.name) must be a boolean (yes/no, on/off, 1/0)"))
                    return nil
                }
            }
            switch param.name {
            case "dns_servers":
                let servers = DNSSettings.parseServers(param.value.description)
                if servers.isEmpty { diagnostics.append(Diagnostic(param.location, "dns_servers is empty")) }
                for server in servers where SocketAddress(server, defaultPort: 53) == nil {
                    diagnostics.append(Diagnostic(param.location,
                        "dns_servers: '\(server)' is not an IP address with an optional port (\"10.0.0.1:53\", \"[::1]:5353\")"))
                }
                settings.servers = servers
            case "dns_try_ipv6": if let v = flag() { settings.tryIPv6 = v }
            case "dns_try_naptr": if let v = flag() { settings.tryNAPTR = v }
            case "dns_use_search_list": if let v = flag() { settings.useSearchList = v }
            case "disable_dns_failover": if let v = flag() { settings.disableFailover = v }
            case "disable_dns_blacklist": if let v = flag() { settings.disableBlacklist = v }
            case "dns_retr_time": if let v = number(1...60) { settings.retransmissionSeconds = v }
            case "dns_retr_no": if let v = number(1...20) { settings.retransmissions = v }
            case "dns_servers_no": if let v = number(1...32) { settings.serverCount = v }
            default: break
            }
        }
        return diagnostics.isEmpty ? (settings, []) : (nil, diagnostics)
    }
}
