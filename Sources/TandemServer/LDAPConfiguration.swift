import Foundation
import LDAPDriver
import TandemScript

/// The LDAP sessions of `modparam("ldap", "config_file", "/path/ldap.cfg")` (OpenSIPS's format:
/// `[session]` sections with `ldap_server_url`, `ldap_bind_dn`, `ldap_bind_password`,
/// `ldap_network_timeout`, `ldap_client_bind_timeout`), and the pool sizes of Tandem's
/// `modparam("tandem", "ldap_max_connections", N)` (connections per worker and session, default 4) and
/// `modparam("tandem", "ldap_max_searches_per_connection", N)` (default 64).
struct LDAPConfiguration: Sendable {
    /// One session and the blocking pool the offload/sync modes share.
    struct Session: Sendable {
        let configuration: LDAPSessionConfiguration
        let blocking: LDAPBlockingPool
    }

    let sessions: [String: Session]
    /// The native pools' sizes (one pool per worker and session).
    var pool = LDAPPoolConfiguration()

    static func parse(_ config: ScriptConfig) -> (LDAPConfiguration, [Diagnostic]) {
        var sessions: [String: Session] = [:]
        var diagnostics: [Diagnostic] = []
        for decl in config.modparams where decl.module == "ldap" && decl.param == "config_file" {
            let path = decl.value.plainText
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                for session in try LDAPSessionConfiguration.parseConfigFile(text) {
                    sessions[session.name] = Session(configuration: session, blocking: LDAPBlockingPool(session: session))
                }
            } catch let error as LDAPError {
                diagnostics.append(Diagnostic(decl.location, "ldap config_file \(path): \(error.message)"))
            } catch {
                diagnostics.append(Diagnostic(decl.location, "ldap config_file \(path): cannot read it (\(error))"))
            }
        }
        var configuration = LDAPConfiguration(sessions: sessions)
        for (param, range) in [("ldap_max_connections", 1...1_000), ("ldap_max_searches_per_connection", 1...100_000)] {
            guard let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == param }) else { continue }
            guard let value = decl.value.intValue, range.contains(value) else {
                diagnostics.append(Diagnostic(decl.location,
                    "tandem \(param) must be a number from \(range.lowerBound) to \(range.upperBound)"))
                continue
            }
            if param == "ldap_max_connections" {
                configuration.pool.size = value
            } else {
                configuration.pool.maxSearchesPerConnection = value
            }
        }
        return (configuration, diagnostics)
    }
}
