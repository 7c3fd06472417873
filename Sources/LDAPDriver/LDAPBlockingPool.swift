import CLDAP
import Synchronization
import TandemAsync

/// Blocking libldap connections of one session shared by the offload threads (the `offload`/`sync` form
/// of ``LDAPSearchOperation``). Create one per session and give it to every worker's ``LDAPConnectionPool``.
///
/// A call checks out an idle bound handle (or connects: `ldap_initialize`, `LDAP_OPT_NETWORK_TIMEOUT` from
/// `ldap_network_timeout`, a simple `ldap_sasl_bind_s` bounded by `ldap_client_bind_timeout`), runs
/// `ldap_search_ext_s` with the job timeout, and checks the handle back in. A reused handle whose server
/// went away is replaced once. A search that times out (rc -3) discards its handle (the server abandons
/// the operation when the connection closes).
public final class LDAPBlockingPool: Sendable {
    /// A checked-out or idle handle.
    /// `@unchecked Sendable`: a handle is either in ``idle`` (guarded by the mutex) or used by exactly one
    /// thread between check-out and check-in; libldap (2.5, thread-safe) allows a handle to move threads.
    private struct Handle: @unchecked Sendable {
        let ld: OpaquePointer
    }

    /// The session.
    public let session: LDAPSessionConfiguration
    /// Idle handles kept at most.
    public let maxIdle: Int
    private let idle = Mutex<[Handle]>([])

    /// Creates an empty pool.
    public init(session: LDAPSessionConfiguration, maxIdle: Int = 8) {
        self.session = session
        self.maxIdle = maxIdle
    }

    deinit {
        idle.withLock { handles in
            for handle in handles { ldap_unbind_ext(handle.ld, nil, nil) }
            handles.removeAll()
        }
    }

    /// Idle handles now.
    public var idleCount: Int { idle.withLock { $0.count } }

    /// Runs one search (blocking; any thread). rc as in ``LDAPSearchOperation``.
    public func run(_ search: LDAPURL, timeoutMs: UInt64) -> AsyncResult {
        let timeout = Int(clamping: max(1, timeoutMs))
        if let reused = idle.withLock({ $0.popLast() }) {
            let (result, code) = execute(reused, search: search, timeoutMs: timeout)
            if code != LDAP_SERVER_DOWN && code != LDAP_CONNECT_ERROR { return result }
            // The server went away since the handle was used: one fresh attempt.
        }
        var handle: OpaquePointer?
        let rc = ldap_initialize(&handle, session.connectURL)
        guard rc == LDAP_SUCCESS, let ld = handle else {
            return LDAPResultCollector.errorResult("ldap_initialize: \(String(cString: ldap_err2string(rc)))")
        }
        _ = tandem_ldap_set_int(ld, LDAP_OPT_PROTOCOL_VERSION, LDAP_VERSION3)
        _ = tandem_ldap_set_flag(ld, LDAP_OPT_REFERRALS, 0)
        _ = tandem_ldap_set_timeout(ld, LDAP_OPT_NETWORK_TIMEOUT, Int(session.networkTimeoutMs))
        _ = tandem_ldap_set_timeout(ld, LDAP_OPT_TIMEOUT, Int(session.bindTimeoutMs))
        let bind = tandem_ldap_simple_bind_s(ld, session.bindDN.isEmpty ? nil : session.bindDN, session.bindPassword)
        guard bind == LDAP_SUCCESS else {
            ldap_unbind_ext(ld, nil, nil)
            return LDAPResultCollector.errorResult("bind: \(String(cString: ldap_err2string(bind)))")
        }
        return execute(Handle(ld: ld), search: search, timeoutMs: timeout).0
    }

    private func execute(_ handle: Handle, search: LDAPURL, timeoutMs: Int) -> (AsyncResult, Int32) {
        let ld = handle.ld
        var message: OpaquePointer?
        let rc = withCStringArray(search.attributes) { attributes in
            tandem_ldap_search_s(ld, search.base, search.scope.code, search.filter, attributes, timeoutMs, &message)
        }
        var collector = LDAPResultCollector(attributes: search.attributes)
        var entry = message.flatMap { ldap_first_entry(ld, $0) }
        while let current = entry {
            collector.add(entry: current, ld: ld)
            entry = ldap_next_entry(ld, current)
        }
        if let message { ldap_msgfree(message) }
        let result: AsyncResult
        if rc == LDAP_TIMEOUT {
            result = AsyncResult(rc: AsyncResult.rcTimeout, outputs: [AsyncOutput("entries", .int(0)),
                                                                       AsyncOutput("error", .string("search timeout"))])
        } else {
            result = collector.result(code: rc)
        }
        let reusable = rc != LDAP_TIMEOUT && rc != LDAP_SERVER_DOWN && rc != LDAP_CONNECT_ERROR && rc >= 0
        let kept = reusable && idle.withLock { handles in
            guard handles.count < maxIdle else { return false }
            handles.append(handle)
            return true
        }
        if !kept { ldap_unbind_ext(ld, nil, nil) }
        return (result, rc)
    }
}
