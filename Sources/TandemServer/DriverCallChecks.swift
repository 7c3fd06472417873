import TandemScript

/// Checks of driver function calls that need the configured drivers (databases, LDAP sessions):
/// `tandem check` reports them with line and column instead of a call that fails at run time.
enum DriverCallChecks {
    static func diagnostics(ast: ScriptAST, databases: DatabaseConfiguration, ldap: LDAPConfiguration) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for call in ast.functionCalls {
            switch call.name {
            case "avp_db_query", "sql_query":
                let module = call.name == "avp_db_query" ? "avpops" : "sqlops"
                guard !databases.databases.isEmpty else {
                    diagnostics.append(Diagnostic(call.location,
                        "\(call.name) needs a database: add modparam(\"\(module)\", \"db_url\", \"postgres://…\")"))
                    continue
                }
                if call.args.count > 2, let id = constantText(call.args[2]), databases.database(id: id) == nil {
                    diagnostics.append(Diagnostic(call.args[2].location,
                        "\(call.name): no db_url has id '\(id)' (ids: \(databases.databases.map(\.id).joined(separator: ", ")))"))
                }
            case "ldap_search":
                guard let url = call.args.first.flatMap(constantText(_:)) ?? call.args.first.flatMap(literalPrefix(_:)),
                      let session = sessionName(inURL: url) else { continue }
                if ldap.sessions[session] == nil {
                    let known = ldap.sessions.keys.sorted()
                    diagnostics.append(Diagnostic(call.args[0].location,
                        "ldap_search: LDAP session '\(session)' is not defined"
                            + (known.isEmpty ? " (no modparam(\"ldap\", \"config_file\", …) defines any)"
                                             : " (sessions: \(known.joined(separator: ", ")))")))
                }
            default:
                break
            }
        }
        return diagnostics
    }

    /// The text of a literal without pseudo-variables.
    private static func constantText(_ expr: Expr) -> String? {
        switch expr.kind {
        case .int(let value): return String(value)
        case .string(let text), .word(let text): return text.contains("$") ? nil : text
        default: return nil
        }
    }

    /// The text of a string literal up to its first pseudo-variable.
    private static func literalPrefix(_ expr: Expr) -> String? {
        guard case .string(let text) = expr.kind else { return nil }
        return String(text.prefix { $0 != "$" })
    }

    /// `SESSION` of `ldap://SESSION/…`, when the whole name is literal text.
    private static func sessionName(inURL url: String) -> String? {
        let scheme = "ldap://"
        guard url.lowercased().hasPrefix(scheme) else { return nil }
        let rest = url.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let name = String(rest[..<slash])
        return name.isEmpty ? nil : name
    }
}
