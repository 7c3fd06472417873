import LDAPDriver
import TandemAsync
import TandemScript

/// `ldap_search("ldap://SESSION/base?attrs?scope?filter")` and `ldap_result("attr/$avp(dst)")` (ldap
/// module): a search on the worker's pool for the session; the values are escaped into the URL.
/// `$rc` follows OpenSIPS ldap: entries found, -1 none, -2 error, -3 timeout.
enum LDAPBinding: DriverBinding {
    static let drivers = ["ldap", "ldap_connect"]
    /// Declared arguments of ldap_search; the URL's values follow it.
    static let searchArguments = 1

    static let functions = [
        FunctionBinding("ldap_search", operation: { call, worker in
            let text = QueryTemplate.fill(AsyncBindings.text(call.values, 0) ?? "",
                                          values: AsyncBindings.boundValues(call.values, after: searchArguments),
                                          escape: LDAPFilter.escape)
            guard let url = try? LDAPURL.parse(text),
                  let pool = worker.state(LDAPWorkerPools.self).pool(session: url.session, worker: worker) else {
                return UnavailableOperation(driver: "ldap")
            }
            return LDAPSearchOperation(pool: pool, search: url)
        }, deliver: { result, _, worker, execution in
            // An engine-side failure (no session, cancelled) is -2 in ldap's table.
            if result.rc == AsyncResult.rcError, result.output("entries") == nil { execution.rc = -2 }
            worker.state(LDAPWorkerPools.self).lastResult = result
        }),
        FunctionBinding("ldap_result", immediate: { call, worker, execution in
            // ldap_result("attr/$avp(dst)") or ldap_result("attr", $avp(dst)): every value of `attr`
            // from this worker's last ldap_search. `$rc`: values copied, -1 none.
            let spec = AsyncBindings.text(call.values, 0) ?? ""
            let attribute = spec.split(separator: "/", maxSplits: 1).first.map(String.init) ?? spec
            let targets = call.outputs(of: 0) + call.outputs(of: 1)
            guard let result = worker.state(LDAPWorkerPools.self).lastResult,
                  case .list(let values)? = result.output(LDAPSearchOperation.outputName(attribute: attribute)),
                  !values.isEmpty else { return -1 }
            AsyncBindings.assignList(.list(values), to: targets, in: &execution)
            return values.count
        }),
    ]
}

/// One worker's LDAP pools by session, and the outcome of its last ldap_search (read by ldap_result,
/// as OpenSIPS keeps it per process).
final class LDAPWorkerPools: WorkerDriverState {
    private var pools: [String: LDAPConnectionPool] = [:]
    var lastResult: AsyncResult?

    init(worker: WorkerServices) {}

    func pool(session name: String, worker: WorkerServices) -> LDAPConnectionPool? {
        if let pool = pools[name] { return pool }
        guard let session = worker.settings.ldap.sessions[name] else { return nil }
        let pool = LDAPConnectionPool(session: session.configuration, reactor: worker.asyncWorker.reactor,
                                      configuration: worker.settings.ldap.pool, blocking: session.blocking)
        pools[name] = pool
        return pool
    }
}
