import Glibc
import TandemAsync

/// One LDAP session as OpenSIPS's ldap module configures it (a `[name]` section of its config file):
/// where the server is, how to bind, and the connect/bind time limits.
///
/// The server host is resolved **once, here** (call this at startup): ``connectURL`` carries a numeric
/// address, so no worker loop ever calls `getaddrinfo`.
public struct LDAPSessionConfiguration: Sendable, Equatable {
    /// The session name (the host part of the search URLs).
    public var name: String
    /// `ldap_server_url`, e.g. `ldap://127.0.0.1:389` (only `ldap://`; no TLS yet).
    public var serverURL: String
    /// `ldap_bind_dn` (empty: anonymous bind).
    public var bindDN: String
    /// `ldap_bind_password`.
    public var bindPassword: String
    /// `ldap_network_timeout` (ms): time allowed for the TCP connect.
    public var networkTimeoutMs: UInt64
    /// `ldap_client_bind_timeout` (ms): time allowed for the bind response.
    public var bindTimeoutMs: UInt64
    /// ``serverURL`` with the host replaced by its numeric address (`ldap://ADDR:PORT`).
    public private(set) var connectURL: String

    /// Creates a session; resolves the server host.
    public init(name: String, serverURL: String, bindDN: String = "", bindPassword: String = "",
                networkTimeoutMs: UInt64 = 1000, bindTimeoutMs: UInt64 = 1000) throws(LDAPError) {
        self.name = name
        self.serverURL = serverURL
        self.bindDN = bindDN
        self.bindPassword = bindPassword
        self.networkTimeoutMs = max(1, networkTimeoutMs)
        self.bindTimeoutMs = max(1, bindTimeoutMs)
        self.connectURL = try Self.numericURL(serverURL)
    }

    /// The parameter names of a session section.
    public static let parameterNames = ["ldap_server_url", "ldap_bind_dn", "ldap_bind_password",
                                        "ldap_network_timeout", "ldap_client_bind_timeout", "ldap_version"]

    /// Creates a session from `key = value` parameters (names as in OpenSIPS's ldap config file, see
    /// ``parameterNames``; `ldap_version` must be 3). `ldap_server_url` is required.
    public init(name: String, parameters: [(String, String)]) throws(LDAPError) {
        var url: String?
        var dn = ""
        var password = ""
        var network: UInt64 = 1000
        var bind: UInt64 = 1000
        for (key, value) in parameters {
            switch key.lowercased() {
            case "ldap_server_url": url = value
            case "ldap_bind_dn": dn = value
            case "ldap_bind_password": password = value
            case "ldap_network_timeout": network = try Self.milliseconds(value, key: key, session: name)
            case "ldap_client_bind_timeout": bind = try Self.milliseconds(value, key: key, session: name)
            case "ldap_version":
                guard value == "3" else { throw LDAPError("session \(name): only ldap_version 3 is supported") }
            default:
                throw LDAPError("session \(name): unknown parameter \"\(key)\" (known: \(Self.parameterNames.joined(separator: ", ")))")
            }
        }
        guard let url, !url.isEmpty else { throw LDAPError("session \(name): ldap_server_url is missing") }
        try self.init(name: name, serverURL: url, bindDN: dn, bindPassword: password,
                      networkTimeoutMs: network, bindTimeoutMs: bind)
    }

    /// Parses an OpenSIPS-style ldap config file: `[session]` headers followed by `key = value` lines
    /// (values optionally in double quotes; `#` and `;` start comment lines).
    public static func parseConfigFile(_ text: String) throws(LDAPError) -> [LDAPSessionConfiguration] {
        var sessions: [LDAPSessionConfiguration] = []
        var current: String?
        var parameters: [(String, String)] = []
        func finish() throws(LDAPError) {
            if let current { sessions.append(try LDAPSessionConfiguration(name: current, parameters: parameters)) }
            parameters = []
        }
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = trim(Substring(rawLine))
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else { throw LDAPError("line \(lineNumber): bad section header \"\(line)\"") }
                try finish()
                let name = String(trim(line.dropFirst().dropLast()))
                guard !sessions.contains(where: { $0.name == name }) else { throw LDAPError("line \(lineNumber): session \(name) defined twice") }
                current = name
                continue
            }
            guard current != nil else { throw LDAPError("line \(lineNumber): parameter outside a [session] section") }
            guard let equals = line.firstIndex(of: "=") else { throw LDAPError("line \(lineNumber): expected key = value") }
            let key = String(trim(line[..<equals]))
            var value = trim(line[line.index(after: equals)...])
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            parameters.append((key, String(value)))
        }
        try finish()
        return sessions
    }

    private static func trim(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }

    private static func milliseconds(_ text: String, key: String, session: String) throws(LDAPError) -> UInt64 {
        guard let value = UInt64(text), value > 0, value <= 3_600_000 else {
            throw LDAPError("session \(session): \(key) must be a number of milliseconds (got \"\(text)\")")
        }
        return value
    }

    /// `ldap://host[:port][/...]` → `ldap://ADDR:port` with a numeric address.
    static func numericURL(_ url: String) throws(LDAPError) -> String {
        let lower = url.lowercased()
        guard lower.hasPrefix("ldap://") else {
            throw LDAPError("ldap_server_url must be ldap://host[:port] (got \"\(url)\")")
        }
        var hostPort = url.dropFirst(7)
        if let slash = hostPort.firstIndex(of: "/") { hostPort = hostPort[..<slash] }
        var host: Substring
        var port = "389"
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw LDAPError("bad IPv6 address in \"\(url)\"") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = String(after.dropFirst()) }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            port = String(hostPort[hostPort.index(after: colon)...])
        } else {
            host = hostPort
        }
        guard let portNumber = UInt16(port), portNumber > 0 else { throw LDAPError("bad port in \"\(url)\"") }
        if host.isEmpty { host = "127.0.0.1" }
        let address = try numericAddress(of: String(host))
        return address.contains(":") ? "ldap://[\(address)]:\(portNumber)" : "ldap://\(address):\(portNumber)"
    }

    static func numericAddress(of host: String) throws(LDAPError) -> String {
        switch NumericHost.address(of: host) {
        case .success(let address): return address
        case .failure(.unresolved(let reason)): throw LDAPError("cannot resolve LDAP server \"\(host)\": \(reason)")
        case .failure(.unformattable): throw LDAPError("cannot format the address of \"\(host)\"")
        }
    }
}
