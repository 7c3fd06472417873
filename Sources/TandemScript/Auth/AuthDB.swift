/// The auth_db module's `www_authorize(realm, table)` and `proxy_authorize(realm, table)`: host-run
/// functions (the stored password comes from the `db_url` database, through the async engine), then
/// the same digest check as `pv_*_authorize`. The compiler appends, after the two declared arguments,
/// the values in ``Hidden`` order; the host builds the query with ``query(table:column:userColumn:domainColumn:useDomain:)``
/// and hands the stored value to ``verdict(proxy:values:stored:_:)``.
public enum AuthDB {
    /// The functions.
    static let names: Set<String> = ["www_authorize", "proxy_authorize"]

    /// Positions of the appended values.
    public enum Hidden {
        /// The username of the request's credentials for the realm (NULL: none).
        public static let username = 2
        /// The realm (the argument, or the To/From domain).
        public static let realm = 3
        /// The column holding the secret for these credentials (plain password or HA1 of their algorithm).
        public static let column = 4
        /// auth_db `calculate_ha1` (0/1).
        public static let calculateHA1 = 5
        /// auth `secret` (nonces).
        public static let secret = 6
        /// auth_db `user_column`, `domain_column`, `use_domain`.
        public static let userColumn = 7, domainColumn = 8, useDomain = 9
    }

    /// `SELECT column FROM table WHERE user = $1 [AND domain = $2]`, or nil when a name is not a plain
    /// SQL identifier (table and columns cannot be bound parameters, so they are checked instead).
    public static func query(table: String, column: String, userColumn: String, domainColumn: String,
                             useDomain: Bool) -> String? {
        guard [table, column, userColumn, domainColumn].allSatisfy(isIdentifier) else { return nil }
        var sql = "SELECT \(column) FROM \(table) WHERE \(userColumn) = $1"
        if useDomain { sql += " AND \(domainColumn) = $2" }
        return sql
    }

    /// Letters, digits and `_`, not starting with a digit, optionally `schema.name`.
    /// One pass over the bytes (usrloc checks its table name on every save).
    public static func isIdentifier(_ name: String) -> Bool {
        var dots = 0
        var partStart = true
        for c in name.utf8 {
            if c == UInt8(ascii: ".") {
                guard !partStart, dots == 0 else { return false }
                dots += 1
                partStart = true
                continue
            }
            let digit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
            guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c | 0x20) || digit || c == UInt8(ascii: "_") else {
                return false
            }
            if partStart && digit { return false }
            partStart = false
        }
        return !partStart
    }

    /// The return code of the call, given the stored secret (nil: no such user): as `pv_*_authorize`.
    public static func verdict(proxy: Bool, values: [ScriptValue], stored: String?, _ ctx: inout ExecutionContext) -> Int {
        func value(_ i: Int) -> ScriptValue { i < values.count ? values[i] : .null }
        return AuthFunctions.verify(proxy: proxy, realm: value(Hidden.realm).stringValue,
                                    password: stored.map { .string($0) } ?? .null,
                                    calculateHA1: (value(Hidden.calculateHA1).intValue ?? 0) != 0,
                                    secret: value(Hidden.secret).stringValue, &ctx)
    }

    /// The generic error code (database unreachable).
    public static let genericError = AuthFunctions.genericError
}
