/// The file descriptors the stream transports need, and what to do with `RLIMIT_NOFILE` at start.
///
/// Every TCP or TLS connection holds a descriptor, so `tcp_max_connections` must fit under the
/// process's soft limit with room for the rest (listening and UDP sockets, reactors, database and DNS
/// sockets, log files): ``reserve`` descriptors. A soft limit below that is raised to the hard limit
/// (an unprivileged process may do so); a hard limit below it is a configuration error.
enum DescriptorBudget {
    /// Descriptors kept for everything but stream connections.
    static let reserve = 1_024

    /// What the start does with the limit.
    enum Plan: Equatable {
        /// The soft limit already fits.
        case enough
        /// Raise the soft limit `from` → `to` (the hard limit).
        case raise(from: Int, to: Int)
        /// Even the hard limit is too low.
        case insufficient(hard: Int)
    }

    /// Descriptors needed for `maxConnections` stream connections and the rest.
    static func needed(maxConnections: Int) -> Int { maxConnections + reserve }

    static func plan(soft: Int, hard: Int, needed: Int) -> Plan {
        if soft >= needed { return .enough }
        if hard >= needed { return .raise(from: soft, to: hard) }
        return .insufficient(hard: hard)
    }

    /// The start error: names the limit, the count needed and the two ways out.
    static func message(limit: Int, needed: Int, maxConnections: Int) -> String {
        "RLIMIT_NOFILE (open files) hard limit \(limit) is below the \(needed) descriptors tcp_max_connections = "
            + "\(maxConnections) needs (\(reserve) kept for other sockets and files): raise the limit "
            + "(ulimit -Hn, LimitNOFILE=) or lower tcp_max_connections"
    }
}
