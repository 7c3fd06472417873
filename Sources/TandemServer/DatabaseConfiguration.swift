import MongoDriver
import TandemAsync
import TandemScript

/// The databases a script names with `modparam("sqlops"|"avpops"|"dbops", "db_url", "[id ]URL")`.
struct DatabaseConfiguration: Sendable {
    /// One database: its id (`avp_db_query`'s third argument) and the driver's backend for it.
    struct Database: Sendable {
        let id: String
        let backend: any DatabaseBackend
    }

    /// In declaration order; the first is the default.
    let databases: [Database]
    /// Connections per database per worker at most (`modparam("tandem", "db_pool_size", N)`, or OpenSIPS's
    /// core `db_max_async_connections = N`; default 16): with a 20 ms query one worker then serves about
    /// 800 queries/s. Mind the server's max_connections. PostgreSQL pools size themselves within it from
    /// the measured latency and rate (``poolMinSize``, ``poolIdleTimeoutMs``).
    var poolSize = 16
    /// PostgreSQL connections per worker kept open however low the load, and opened when the worker
    /// starts (`modparam("tandem", "db_pool_min_size", N)`, default 1; 0: nothing before the first query).
    var poolMinSize = 1
    /// How long an extra PostgreSQL connection (beyond what the measured load needs) may stay idle before
    /// it is closed (`modparam("tandem", "db_pool_idle_timeout", seconds)`, default 10; 0: never, and the
    /// pool keeps every connection it opened as before).
    var poolIdleTimeoutMs: UInt64 = 10_000
    /// Queries that may wait for a connection, per database per worker (`modparam("tandem", "db_queue",
    /// N)`, default 4096); a query beyond that gets rc -4 at once instead of queueing behind a backlog.
    /// The bound guards memory; how long a query may wait is bounded by `async_timeout`. 256 (the old
    /// default) was under a second of traffic per worker at 0 ms: a registration burst of 1,600/s on 4
    /// workers filled it while all connections were busy (Perf/README, registrar).
    var queueSize = 4096
    /// PostgreSQL queries in flight at once on one pooled connection (`modparam("tandem",
    /// "db_pipeline_depth", N)`, default 1; libpq pipeline mode): 1 = one query per connection. Not on
    /// by default: a slow query delays every query pipelined behind it on its connection.
    var pipelineDepth = 1
    /// Whether PostgreSQL queries run as named prepared statements of their pooled connection
    /// (`modparam("tandem", "db_prepared_statements", 0|1)`, default 1): each connection parses and plans a
    /// query text once. 0 behind a pooler that does not keep prepared statements (PgBouncer before 1.21 in
    /// transaction mode).
    var preparedStatements = true
    /// The MongoDB pool of `cache_raw_query("mongodb", …)` (`modparam("cachedb_mongodb", "cachedb_url", …)`).
    var cacheMongo: MongoClientPool?

    func database(id: String?) -> Database? {
        guard let id, !id.isEmpty else { return databases.first }
        return databases.first { $0.id == id }
    }

    /// Parses every `db_url` (a leading id, as in `"2 postgres://…"`, is optional; the first URL
    /// without one is id "1", the next "2", …). MongoDB client pools get `mongoLimit` connections and a
    /// server selection timeout of at most `callTimeoutMs` (the default call timeout, `async_timeout`).
    static func parse(_ config: ScriptConfig, mongoLimit: Int,
                      callTimeoutMs: UInt64 = AsyncEngineConfiguration().defaultTimeoutMs) -> (DatabaseConfiguration, [Diagnostic]) {
        var databases: [Database] = []
        var diagnostics: [Diagnostic] = []
        // auth_db's database comes last (id "auth_db"), so the default of avp_db_query stays the first of the others.
        let declarations = config.modparams.filter { ["sqlops", "avpops", "dbops"].contains($0.module) && $0.param == "db_url" }
            + config.modparams.filter { $0.module == "auth_db" && $0.param == "db_url" }.suffix(1)
            + config.modparams.filter { $0.module == "usrloc" && $0.param == "db_url" }.suffix(1)
        for decl in declarations {
            let text = decl.value.plainText.trimmingSpaces()
            let fixedID = ["auth_db": AuthDBBinding.databaseID, "usrloc": UsrlocBinding.databaseID][decl.module]
            var id = fixedID ?? String(databases.count + 1)
            var url = text
            if decl.module == "usrloc" && !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
                diagnostics.append(Diagnostic(decl.location,
                    "usrloc db_url: Tandem keeps the location table in PostgreSQL only (postgres://…)"))
                continue
            }
            if fixedID == nil, let space = text.firstIndex(of: " ") {
                id = String(text[..<space])
                url = String(text[text.index(after: space)...]).trimmingSpaces()
            }
            do {
                if let driver = DatabaseBinding.driver(for: url) {
                    databases.append(Database(id: id, backend: try driver.backend(url, mongoLimit, callTimeoutMs)))
                } else {
                    let scheme = url.split(separator: ":").first.map(String.init) ?? url
                    let known = DatabaseBinding.databaseDrivers.compactMap(\.schemes.first).joined(separator: " or ")
                    diagnostics.append(Diagnostic(decl.location,
                        "\(decl.module) db_url: '\(scheme)' databases are not supported (use \(known))"))
                }
            } catch {
                diagnostics.append(Diagnostic(decl.location, "\(decl.module) db_url: \(error)"))
            }
        }
        var configuration = DatabaseConfiguration(databases: databases)
        // OpenSIPS's name for the same limit (a core parameter); db_pool_size wins when both are set.
        if let param = config.globals.last(where: { $0.name == "db_max_async_connections" }) {
            if let size = param.value.intValue, (1...1000).contains(size) {
                configuration.poolSize = size
            } else {
                diagnostics.append(Diagnostic(param.location, "db_max_async_connections must be a number from 1 to 1000"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "db_pool_min_size" }) {
            if let size = decl.value.intValue, (0...1000).contains(size) {
                configuration.poolMinSize = size
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem db_pool_min_size must be a number from 0 to 1000"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "db_pool_idle_timeout" }) {
            if let seconds = decl.value.intValue, (0...86_400).contains(seconds) {
                configuration.poolIdleTimeoutMs = UInt64(seconds) * 1000
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem db_pool_idle_timeout must be a number of seconds from 0 to 86400"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "db_pool_size" }) {
            if let size = decl.value.intValue, (1...1000).contains(size) {
                configuration.poolSize = size
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem db_pool_size must be a number from 1 to 1000"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "db_pipeline_depth" }) {
            if let depth = decl.value.intValue, (1...256).contains(depth) {
                configuration.pipelineDepth = depth
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem db_pipeline_depth must be a number from 1 to 256"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "db_prepared_statements" }) {
            if let flag = decl.value.intValue, flag == 0 || flag == 1 {
                configuration.preparedStatements = flag == 1
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem db_prepared_statements must be 0 or 1"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "db_queue" }) {
            if let size = decl.value.intValue, (0...100_000).contains(size) {
                configuration.queueSize = size
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem db_queue must be a number from 0 to 100000"))
            }
        }
        for decl in config.modparams where decl.module == "cachedb_mongodb" && decl.param == "cachedb_url" {
            do {
                configuration.cacheMongo = try MongoDatabase.clientPool(decl.value.plainText.trimmingSpaces(),
                                                                        limit: mongoLimit, callTimeoutMs: callTimeoutMs)
            } catch {
                diagnostics.append(Diagnostic(decl.location, "cachedb_mongodb cachedb_url: \(error)"))
            }
        }
        return (configuration, diagnostics)
    }
}
