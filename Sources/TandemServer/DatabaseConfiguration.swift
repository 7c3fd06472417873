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
    /// Connections per database per worker (`modparam("tandem", "db_pool_size", N)`, default 16): with
    /// a 20 ms query one worker then serves about 800 queries/s. Mind the server's max_connections.
    var poolSize = 16

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
        var configuration = DatabaseConfiguration(databases: databases)
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "db_pool_size" }) {
            if let size = decl.value.intValue, (1...1000).contains(size) {
                configuration.poolSize = size
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem db_pool_size must be a number from 1 to 1000"))
            }
        }
        return (configuration, diagnostics)
    }
}
