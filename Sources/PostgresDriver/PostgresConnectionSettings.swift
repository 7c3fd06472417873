import CLibPQ
import Glibc
import TandemAsync

/// The parsed connection parameters of one database (from a `postgres://` URL or a `key=value`
/// conninfo string), ready for `PQconnectStartParams`.
///
/// Host names are never resolved on a worker loop: an IP-literal `host` becomes `hostaddr` too,
/// `localhost` becomes `hostaddr=127.0.0.1`, a Unix-socket directory (`/...`) is kept as is, and any
/// other name is resolved **once, here** (call this at startup) and pinned with `hostaddr`.
public struct PostgresConnectionSettings: Sendable, Equatable {
    /// libpq keywords, in order.
    public private(set) var keywords: [String]
    /// The value of each keyword.
    public private(set) var values: [String]

    /// Parses `conninfo` (`postgres://user:pass@127.0.0.1:5432/db?...` or `hostaddr=... dbname=...`).
    public init(_ conninfo: String) throws(PostgresError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            let message = errorMessage.map { trimmedMessage($0) } ?? "invalid connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(message)
        }
        defer { PQconninfoFree(options) }
        var keywords: [String] = []
        var values: [String] = []
        var index = 0
        while let keyword = options[index].keyword {
            if let value = options[index].val {
                keywords.append(String(cString: keyword))
                values.append(String(cString: value))
            }
            index += 1
        }
        self.keywords = keywords
        self.values = values
        try pinHostAddresses()
    }

    /// The value of `keyword`, if set.
    public func value(of keyword: String) -> String? {
        keywords.firstIndex(of: keyword).map { values[$0] }
    }

    /// Sets (or replaces) a keyword.
    public mutating func set(_ keyword: String, _ value: String) {
        if let index = keywords.firstIndex(of: keyword) {
            values[index] = value
        } else {
            keywords.append(keyword)
            values.append(value)
        }
    }

    /// Adds `hostaddr` for every host that is not a Unix socket, so libpq never calls `getaddrinfo`.
    private mutating func pinHostAddresses() throws(PostgresError) {
        guard value(of: "hostaddr") == nil, let hostList = value(of: "host"), !hostList.isEmpty else { return }
        let hosts = hostList.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var addresses: [String] = []
        var needsPin = false
        for host in hosts {
            if host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") {
                addresses.append("")  // Unix socket (or default): no lookup
            } else {
                addresses.append(try Self.numericAddress(of: host))
                needsPin = true
            }
        }
        if needsPin { set("hostaddr", addresses.joined(separator: ",")) }
    }

    /// `host` as a numeric address: itself if it is an IP literal, else the first getaddrinfo answer.
    static func numericAddress(of host: String) throws(PostgresError) -> String {
        switch NumericHost.address(of: host) {
        case .success(let address): return address
        case .failure(.unresolved(let reason)): throw PostgresError("cannot resolve host \"\(host)\": \(reason)")
        case .failure(.unformattable): throw PostgresError("cannot format address of \"\(host)\"")
        }
    }

    /// Calls `body` with NULL-terminated keyword/value arrays, `extra` pairs overriding the stored ones.
    func withParameters<R>(extra: [(String, String)] = [],
                           _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        var copy = self
        for (keyword, value) in extra { copy.set(keyword, value) }
        return withCStringArray(copy.keywords, terminated: true) { keywords in
            withCStringArray(copy.values, terminated: true) { values in body(keywords, values) }
        }
    }
}
