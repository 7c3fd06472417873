import TandemAsync
import TandemScript

/// auth_db's `www_authorize(realm, table)`/`proxy_authorize(realm, table)`: one query for the stored
/// secret of the credentials' username (bound parameters; table and column names checked as plain
/// identifiers) against `modparam("auth_db", "db_url", …)`, then the digest check on the worker.
/// Under `async()` the transaction suspends while the query runs; called plainly in a request or failure
/// route it suspends the same way and the route continues at the call (the spec's `transparent` flag,
/// ``Compiler`` resume trail); elsewhere (reply, branch, local, timer, startup routes; an ACK or CANCEL)
/// the call blocks this worker, bounded by `async_timeout`, as every host-run function does.
enum AuthDBBinding: DriverBinding {
    /// The id its database gets in ``DatabaseConfiguration``.
    static let databaseID = "auth_db"
    /// Its queries run under the database driver's name (postgres, mysql…).
    static let drivers: [String] = []
    static let functions = [
        FunctionBinding("www_authorize", operation: lookup, deliver: verdict(proxy: false)),
        FunctionBinding("proxy_authorize", operation: lookup, deliver: verdict(proxy: true)),
    ]

    private static func lookup(_ call: HostCallArguments, _ worker: WorkerServices) -> any AsyncOperation {
        let values = call.values
        typealias H = AuthDB.Hidden
        guard let username = AsyncBindings.text(values, H.username),
              let database = worker.settings.databases.database(id: databaseID),
              let sql = AuthDB.query(table: AsyncBindings.text(values, 1) ?? "",
                                     column: AsyncBindings.text(values, H.column) ?? "",
                                     userColumn: AsyncBindings.text(values, H.userColumn) ?? "",
                                     domainColumn: AsyncBindings.text(values, H.domainColumn) ?? "",
                                     useDomain: useDomain(values)) else {
            return UnavailableOperation(driver: databaseID)
        }
        var parameters: [String?] = [username]
        if useDomain(values) { parameters.append(AsyncBindings.text(values, H.realm) ?? "") }
        return database.backend.queryOperation(id: database.id, query: sql, parameters: parameters, worker: worker)
    }

    private static func useDomain(_ values: [ScriptValue]) -> Bool {
        AuthDB.Hidden.useDomain < values.count && (values[AuthDB.Hidden.useDomain].intValue ?? 0) != 0
    }

    /// `$rc`: the digest verdict with the stored secret (rows), or without one (no row, or no credentials
    /// to look up); -5 when the database failed while there were credentials to check.
    private static func verdict(proxy: Bool) -> FunctionBinding.Deliver {
        { result, call, _, execution in
            let looked = AsyncBindings.text(call.values, AuthDB.Hidden.username) != nil
            var stored: String?
            if result.rc > 0, case .list(let rows)? = result.output("col0"), let first = rows.first {
                stored = first
            } else if looked && result.rc != -2 {
                AsyncBindings.logFailure("auth_db: the credentials query", result, in: &execution)
                execution.rc = AuthDB.genericError
                return
            }
            execution.rc = AuthDB.verdict(proxy: proxy, values: call.values, stored: stored, &execution)
        }
    }
}
