import TandemAsync

/// One LDAP search for the async engine (driver `"ldap"`), e.g. the body of OpenSIPS's
/// `ldap_search("ldap://sipaccounts/ou=people,dc=example,dc=com?telephoneNumber?sub?(uid=$rU)")` with the
/// value of `$rU` escaped by ``LDAPFilter/escape(_:)`` and the URL parsed by ``LDAPURL/parse(_:)``.
///
/// - native: `ldap_search_ext` on a connection of the worker's ``LDAPConnectionPool`` for the session,
///   results read from the connection's descriptor on the worker's reactor. ``cancel()`` (timeout or
///   CANCEL) abandons it with `ldap_abandon_ext`.
/// - blocking (`offload`/`sync`): `ldap_search_ext_s` with the job timeout on a handle of the pool's
///   ``LDAPBlockingPool`` (offload limit key: `"ldap"`).
///
/// Result — OpenSIPS ldap's return codes, which differ from the engine's generic table:
/// rc = number of entries found (> 0); -1 no entry; -2 error (server error such as a bad base, lost
/// connection, bad filter; output `error`, and `ldap_rc` when the server answered); -3 timeout; -4 the
/// pool or offload queue was full. Outputs: `attr:NAME` (`.list`) per requested attribute with every value
/// of every entry in entry order (all attributes seen when none was requested), `entries` (`.int`).
public final class LDAPSearchOperation: AsyncOperation {
    public let driver = "ldap"
    public let supportedPaths: AsyncPaths = .all
    /// The worker's pool for the session (its blocking pool serves the blocking form).
    public let pool: LDAPConnectionPool
    /// The search.
    public let search: LDAPURL

    private let request = PooledRequest()

    /// Creates the operation (nothing runs until it is started). `search.session` is informational: the
    /// caller picks the pool of that session.
    public init(pool: LDAPConnectionPool, search: LDAPURL) {
        self.pool = pool
        self.search = search
    }

    /// Output set (`.int(1)`) on a result that did not reach the server (no connection, connection lost),
    /// so that backend health tells these from the server's own answers.
    public static let unreachableOutput = "ldap_unreachable"

    /// The output holding the values of `attribute`: `"attr:" + attribute` (the requested spelling).
    public static func outputName(attribute: String) -> String { "attr:" + attribute }

    public func start(_ context: NativeContext) {
        request.start(context, driver: "ldap") { completion in pool.submit(search, completion: completion) }
    }

    public func cancel() {
        request.cancel(abandon: pool.abandon)
    }

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let blocking = pool.blocking
        let search = search
        return { blocking.run(search, timeoutMs: timeoutMs) }
    }
}
