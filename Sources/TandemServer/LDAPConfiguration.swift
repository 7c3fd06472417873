import Foundation
import LDAPDriver
import TandemScript

/// The LDAP sessions of `modparam("ldap", "config_file", "/path/ldap.cfg")` (OpenSIPS's format:
/// `[session]` sections with `ldap_server_url`, `ldap_bind_dn`, `ldap_bind_password`,
/// `ldap_network_timeout`, `ldap_client_bind_timeout`).
struct LDAPConfiguration: Sendable {
    /// One session and the blocking pool the offload/sync modes share.
    struct Session: Sendable {
        let configuration: LDAPSessionConfiguration
        let blocking: LDAPBlockingPool
    }

    let sessions: [String: Session]

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
        return (LDAPConfiguration(sessions: sessions), diagnostics)
    }
}
