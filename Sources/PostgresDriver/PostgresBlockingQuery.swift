import CLibPQ
import TandemAsync

/// The blocking form of ``PostgresQueryOperation`` (offload threads, or the worker in `sync` mode):
/// a fresh connection per call, `connect_timeout` and `statement_timeout` from the job timeout.
enum PostgresBlockingQuery {
    static func run(settings: PostgresConnectionSettings, sql: String, parameters: [String?], timeoutMs: UInt64) -> AsyncResult {
        // libpq's connect_timeout is in whole seconds, at least 2.
        let connectTimeout = max(2, (timeoutMs + 999) / 1000)
        var options = settings.value(of: "options") ?? ""
        if !options.isEmpty { options += " " }
        options += "-c statement_timeout=\(max(1, timeoutMs))"
        let conn = settings.withParameters(extra: [("connect_timeout", String(connectTimeout)), ("options", options)]) {
            keywords, values in PQconnectdbParams(keywords, values, 0)
        }
        guard let conn else { return PostgresPool.errorResult("out of memory") }
        defer { PQfinish(conn) }
        guard PQstatus(conn) == CONNECTION_OK else {
            return PostgresPool.errorResult(trimmedMessage(PQerrorMessage(conn)))
        }
        let result = withCStringArray(parameters) { values in
            PQexecParams(conn, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
        }
        var collector = PostgresResultCollector()
        if let result {
            collector.add(result)
            PQclear(result)
        } else {
            collector.fail(trimmedMessage(PQerrorMessage(conn)))
        }
        return collector.result()
    }
}
