import PostgresDriver
import TandemScript

/// The databases a script names with `modparam("sqlops"|"avpops"|"dbops", "db_url", "[id ]URL")`.
struct DatabaseConfiguration: Sendable {
    /// One database: its id (`avp_db_query`'s third argument), its settings and the blocking pool the
    /// offload/sync modes share.
    struct Database: Sendable {
        let id: String
        let settings: PostgresConnectionSettings
        let blocking: PostgresBlockingPool
    }

    /// In declaration order; the first is the default.
    let databases: [Database]

    func database(id: String?) -> Database? {
        guard let id, !id.isEmpty else { return databases.first }
        return databases.first { $0.id == id }
    }

    /// Parses every `db_url` (a leading id, as in `"2 postgres://…"`, is optional; the first URL
    /// without one is id "1", the next "2", …).
    static func parse(_ config: ScriptConfig) -> (DatabaseConfiguration, [Diagnostic]) {
        var databases: [Database] = []
        var diagnostics: [Diagnostic] = []
        for decl in config.modparams where ["sqlops", "avpops", "dbops"].contains(decl.module) && decl.param == "db_url" {
            let text = decl.value.plainText.trimmingSpaces()
            var id = String(databases.count + 1)
            var url = text
            if let space = text.firstIndex(of: " ") {
                id = String(text[..<space])
                url = String(text[text.index(after: space)...]).trimmingSpaces()
            }
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                let scheme = url.split(separator: ":").first.map(String.init) ?? url
                diagnostics.append(Diagnostic(decl.location,
                    "\(decl.module) db_url: '\(scheme)' databases are not supported yet (use postgres://user:pass@host:port/db)"))
                continue
            }
            do {
                let settings = try PostgresConnectionSettings(url)
                databases.append(Database(id: id, settings: settings, blocking: PostgresBlockingPool(settings: settings)))
            } catch {
                diagnostics.append(Diagnostic(decl.location, "\(decl.module) db_url: \(error)"))
            }
        }
        return (DatabaseConfiguration(databases: databases), diagnostics)
    }
}
