import Synchronization
import TLSTransport
import TandemScript

extension ServerConfiguration {
    /// The TLS domains of `config` (OpenSIPS 3.6 `tls_mgm`), with every context built so that `tandem check`
    /// reports unreadable files (path and OS reason), keys that do not match their certificate, bad
    /// `tls_method`/`ciphers_list`/`ec_curve` values. Nil without `tls_mgm.so`.
    ///
    /// Domains: `modparam("tls_mgm", "server_domain", "dom")` / `"client_domain"`; settings for one domain
    /// are prefixed `"[dom]value"`; settings without a prefix belong to the implicit `default` domains
    /// (server: only when it has a certificate; client: always, unless a client domain matches `*`).
    public static func tlsConfiguration(for config: ScriptConfig) -> (TLSConfiguration?, [Diagnostic]) {
        var parser = TLSConfigurationParser(config: config)
        return parser.parse()
    }
}

/// Reads the `tls_mgm` and `proto_tls` modparams of a script into a ``TLSConfiguration``.
struct TLSConfigurationParser {
    let config: ScriptConfig
    var diagnostics: [Diagnostic] = []
    /// The server domains, filled once all are built: every server context asks it for the domain of a
    /// ClientHello's SNI name.
    let sniTable = ServerNameTable()

    init(config: ScriptConfig) { self.config = config }

    /// One setting as written: value (prefix removed) and where.
    struct Setting {
        let value: String
        let location: SourceLocation
    }

    private var unknown: SourceLocation { SourceLocation(file: "", line: 0, column: 0) }

    private func location(ofModule module: String) -> SourceLocation { config.moduleLocations[module] ?? unknown }

    mutating func parse() -> (TLSConfiguration?, [Diagnostic]) {
        guard config.isLoaded("tls_mgm") else {
            if config.isLoaded("proto_tls") {
                diagnostics.append(Diagnostic(location(ofModule: "proto_tls"),
                    "module 'proto_tls' needs the tls_mgm module: add loadmodule \"tls_mgm.so\" and its certificate settings"))
            }
            return (nil, diagnostics)
        }
        if !config.isLoaded("tls_openssl") && !config.isLoaded("tls_wolfssl") {
            diagnostics.append(Diagnostic(location(ofModule: "tls_mgm"),
                "tls_mgm: no TLS library module loaded (loadmodule \"tls_openssl.so\" as OpenSIPS 3.6 needs); Tandem uses OpenSSL 3 either way",
                severity: .warning))
        }
        // Declared domains.
        var declared: [TLSRole: [(String, SourceLocation)]] = [.server: [], .client: []]
        for decl in config.modparams where decl.module == "tls_mgm"
            && (decl.param == "server_domain" || decl.param == "client_domain") {
            let role: TLSRole = decl.param == "server_domain" ? .server : .client
            let name = decl.value.plainText.trimmingSpaces()
            if name.isEmpty || name.contains("[") || name.contains("]") || name.contains("=") {
                diagnostics.append(Diagnostic(decl.location, "tls_mgm \(decl.param): '\(name)' is not a domain name"))
            } else if declared[role]!.contains(where: { $0.0 == name }) || name == "default" {
                diagnostics.append(Diagnostic(decl.location, "tls_mgm \(decl.param): domain '\(name)' is defined twice"))
            } else {
                declared[role]!.append((name, decl.location))
            }
        }
        // Settings by domain name ("" = the implicit default domains).
        var settings: [String: [String: Setting]] = [:]
        var handshakeTimeoutMs = TLSContextConfiguration.defaultHandshakeTimeoutMs
        for decl in config.modparams where decl.module == "tls_mgm" || decl.module == "proto_tls" {
            if decl.param == "tls_handshake_timeout" {
                if let v = decl.value.intValue, (1...600_000).contains(v) {
                    handshakeTimeoutMs = UInt64(v)
                } else {
                    diagnostics.append(Diagnostic(decl.location,
                        "\(decl.module) tls_handshake_timeout must be a number of milliseconds from 1 to 600000"))
                }
                continue
            }
            guard decl.module == "tls_mgm", Self.domainSettings.contains(decl.param) else { continue }
            var text = decl.value.plainText.trimmingSpaces()
            var domain = ""
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else {
                    diagnostics.append(Diagnostic(decl.location, "tls_mgm \(decl.param): '[' without ']' in '\(text)'"))
                    continue
                }
                domain = String(text[text.index(after: text.startIndex)..<close]).trimmingSpaces()
                text = String(text[text.index(after: close)...]).trimmingSpaces()
                let known = declared.values.contains { $0.contains { $0.0 == domain } }
                if !known {
                    diagnostics.append(Diagnostic(decl.location,
                        "tls_mgm \(decl.param): TLS domain '\(domain)' is not defined (modparam(\"tls_mgm\", \"server_domain\" or \"client_domain\", \"\(domain)\"))"))
                    continue
                }
            }
            settings[domain, default: [:]][decl.param] = Setting(value: text, location: decl.location)
        }
        var servers: [TLSDomain] = []
        var clients: [TLSDomain] = []
        for (role, list) in declared {
            for (name, location) in list {
                if let domain = build(name: name, role: role, settings: settings[name] ?? [:], at: location,
                                      timeoutMs: handshakeTimeoutMs, implicit: false) {
                    if role == .server { servers.append(domain) } else { clients.append(domain) }
                }
            }
        }
        servers.sort { a, b in order(a, declared[.server]!) < order(b, declared[.server]!) }
        clients.sort { a, b in order(a, declared[.client]!) < order(b, declared[.client]!) }
        let defaults = settings[""] ?? [:]
        let errorsBeforeDefaults = errorCount
        if defaults["certificate"] != nil || defaults["private_key"] != nil, !servers.contains(where: \.isCatchAll),
           let domain = build(name: "default", role: .server, settings: defaults, at: location(ofModule: "tls_mgm"),
                              timeoutMs: handshakeTimeoutMs, implicit: true) {
            servers.append(domain)
        }
        // The default client domain shares the default settings: once they failed, say it once.
        if errorCount == errorsBeforeDefaults, !clients.contains(where: \.isCatchAll),
           let domain = build(name: "default", role: .client, settings: defaults, at: location(ofModule: "tls_mgm"),
                              timeoutMs: handshakeTimeoutMs, implicit: true) {
            clients.append(domain)
        }
        if config.isLoaded("proto_tls") && servers.isEmpty && declared[.server]!.isEmpty && errorCount == 0 {
            diagnostics.append(Diagnostic(location(ofModule: "proto_tls"),
                "proto_tls: no TLS server domain: give modparam(\"tls_mgm\", \"certificate\", PATH) and \"private_key\" (or define a server_domain)"))
        }
        guard !diagnostics.contains(where: { $0.severity == .error }) else { return (nil, diagnostics) }
        sniTable.set(servers)
        return (TLSConfiguration(serverDomains: servers, clientDomains: clients, handshakeTimeoutMs: handshakeTimeoutMs),
                diagnostics)
    }

    private var errorCount: Int { diagnostics.count(where: { $0.severity == .error }) }

    private func order(_ domain: TLSDomain, _ list: [(String, SourceLocation)]) -> Int {
        list.firstIndex { $0.0 == domain.name } ?? Int.max
    }

    /// Parameters that take a `[domain]` prefix.
    static let domainSettings: Set<String> = [
        "match_ip_address", "match_sip_domain", "certificate", "private_key", "ca_list", "ca_dir", "crl_dir",
        "crl_check_all", "verify_cert", "require_cert", "tls_method", "ciphers_list", "dh_params", "ec_curve",
        "server_name",
    ]

    /// The domain `name` of `role` from its settings, its context built; nil (with diagnostics) if unusable.
    private mutating func build(name: String, role: TLSRole, settings: [String: Setting], at declaration: SourceLocation,
                                timeoutMs: UInt64, implicit: Bool) -> TLSDomain? {
        var c = TLSContextConfiguration(role: role)
        c.handshakeTimeoutMs = timeoutMs
        let label = "tls_mgm \(role == .server ? "server" : "client") domain '\(name)'"
        var ok = true
        func flag(_ setting: Setting, _ param: String) -> Bool? {
            switch setting.value.lowercased() {
            case "1", "yes", "on", "true": return true
            case "0", "no", "off", "false": return false
            default:
                diagnostics.append(Diagnostic(setting.location, "tls_mgm \(param) must be 0 or 1, not '\(setting.value)'"))
                ok = false
                return nil
            }
        }
        func list(_ setting: Setting?) -> [String] {
            (setting?.value ?? "").split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        }
        func path(_ param: String) -> String? {
            guard let s = settings[param], !s.value.isEmpty else { return nil }
            return s.value
        }
        c.certificatePath = path("certificate")
        c.privateKeyPath = path("private_key")
        c.caListPath = path("ca_list")
        c.caDirectory = path("ca_dir")
        c.dhParamsPath = path("dh_params")
        c.ciphers = path("ciphers_list")
        c.ecCurve = path("ec_curve")
        c.serverName = path("server_name")
        if let s = settings["verify_cert"], let v = flag(s, "verify_cert") { c.verifyCertificate = v }
        if let s = settings["require_cert"], let v = flag(s, "require_cert") { c.requireCertificate = v }
        if let s = settings["tls_method"] {
            do {
                c.versions = try TLSVersionRange.parse(s.value)
            } catch {
                diagnostics.append(Diagnostic(s.location, "tls_mgm tls_method: \(error)"))
                ok = false
            }
        }
        for s in [settings["crl_dir"], settings["crl_check_all"]].compactMap({ $0 }) {
            diagnostics.append(Diagnostic(s.location, "tls_mgm: certificate revocation lists are not checked by Tandem yet",
                                          severity: .warning))
        }
        let addresses = implicit ? ["*"] : list(settings["match_ip_address"])
        let names = implicit ? [] : list(settings["match_sip_domain"])
        for address in addresses where address != "*" && !Self.isAddress(address) {
            diagnostics.append(Diagnostic(settings["match_ip_address"]!.location,
                "tls_mgm match_ip_address: '\(address)' is not IP:PORT or *"))
            ok = false
        }
        if !implicit && addresses.isEmpty && names.isEmpty {
            diagnostics.append(Diagnostic(declaration,
                "\(label) matches nothing: give it a match_ip_address (\"[\(name)]IP:PORT\" or \"[\(name)]*\") or a match_sip_domain",
                severity: .warning))
        }
        guard ok else { return nil }
        do {
            let table = sniTable
            var selector: (@Sendable (String) -> TLSContext?)?
            if role == .server {
                selector = { @Sendable name in table.context(for: name) }
            }
            let context = try TLSContext(c, serverNameSelector: selector)
            return TLSDomain(name: name, role: role, matchAddresses: addresses, matchSIPDomains: names,
                             settings: c, context: context)
        } catch {
            let culprit: Setting? = switch error.code {
            case .fileUnreadable, .fileInvalid:
                [settings["certificate"], settings["private_key"], settings["ca_list"], settings["ca_dir"],
                 settings["dh_params"]].compactMap { $0 }.first { error.message.contains($0.value) }
            case .keyMismatch: settings["private_key"]
            default:
                [settings["ciphers_list"], settings["ec_curve"], settings["tls_method"]].compactMap { $0 }
                    .first { error.message.contains($0.value) }
            }
            diagnostics.append(Diagnostic(culprit?.location ?? declaration, "\(label): \(error)"))
            return nil
        }
    }

    /// `IP:PORT`, `[IPv6]:PORT`, or a bare IP.
    static func isAddress(_ text: String) -> Bool {
        var host = Substring(text)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return false }
                port = rest.dropFirst()
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if let port, UInt16(port) == nil { return false }
        return !host.isEmpty && host.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" }
    }
}

/// The server domains by SNI name, for the contexts' server name callback: the first domain whose
/// `match_sip_domain` names the host (a bare `*` does not count: it would catch every name).
final class ServerNameTable: Sendable {
    private let domains = Mutex<[TLSDomain]>([])

    func set(_ servers: [TLSDomain]) { domains.withLock { $0 = servers } }

    func context(for name: String) -> TLSContext? {
        domains.withLock { list in
            list.first { domain in
                !domain.matchSIPDomains.isEmpty && !domain.matchSIPDomains.allSatisfy { $0 == "*" }
                    && domain.matches(sipDomain: name)
            }?.context
        }
    }
}
