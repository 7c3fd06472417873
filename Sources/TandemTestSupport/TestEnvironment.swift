import Glibc

/// What `scripts/test.sh` tells the tests: the `TANDEM_TEST_*` variables of the test servers it started
/// (a server that is absent leaves its variables unset and its tests skip), and where the repository is.
public enum TestEnvironment {
    /// The value of environment variable `name`, nil if unset.
    public static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// The repository root (for `scripts/test-servers/*.sh`).
    public static var repositoryRoot: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Sources/TandemTestSupport/TestEnvironment.swift
        return parts.joined(separator: "/")
    }

    /// `TANDEM_TEST_PG_URL`: the PostgreSQL test server (`postgresql://…`).
    public static var postgresURL: String? { value("TANDEM_TEST_PG_URL") }
    /// `TANDEM_TEST_MYSQL_URL`: the MariaDB test server (`mysql://…`).
    public static var mysqlURL: String? { value("TANDEM_TEST_MYSQL_URL") }
    /// `TANDEM_TEST_HTTP_URL`: the HTTP echo server's base URL (ends with `/`).
    public static var httpURL: String? { value("TANDEM_TEST_HTTP_URL") }
    /// `TANDEM_TEST_LDAP_URL`: the slapd test server.
    public static var ldapURL: String? { value("TANDEM_TEST_LDAP_URL") }
    /// `TANDEM_TEST_DNS_SERVER`: the dnsmasq test server (`127.0.0.1:PORT`), zone `test.tandem`.
    public static var dnsServer: String? { value("TANDEM_TEST_DNS_SERVER") }
    /// `TANDEM_TEST_DNS_PID`: dnsmasq's pid (tests freeze it with SIGSTOP).
    public static var dnsPID: Int32? { value("TANDEM_TEST_DNS_PID").flatMap { Int32($0) } }
    /// `TANDEM_TEST_DNS_SRV_PORTS`: the ports of `_sip._udp.srv.test.tandem`'s targets t1, t2, t3.
    public static var dnsSRVPorts: [UInt16] {
        (value("TANDEM_TEST_DNS_SRV_PORTS") ?? "").split(separator: " ").compactMap { UInt16($0) }
    }
    /// `TANDEM_TEST_DNS_TCP_PORTS`: ports Q1 Q2 Q3 of the TCP/TLS SRV records (nothing listens on Q1;
    /// `_sip._tcp.tcpsrv.test.tandem` → t1:Q2, `_sips._tcp.tcpsrv.test.tandem` → t1:Q3).
    public static var dnsTCPPorts: [UInt16] {
        (value("TANDEM_TEST_DNS_TCP_PORTS") ?? "").split(separator: " ").compactMap { UInt16($0) }
    }
    /// `TANDEM_TEST_DNS_AUTH_SERVER`: the authoritative dnsmasq (`127.0.0.1:PORT`) of zone `soa.tandem`,
    /// whose NXDOMAIN answers carry the zone's SOA (TTL and MINIMUM 7 s).
    public static var dnsAuthServer: String? { value("TANDEM_TEST_DNS_AUTH_SERVER") }
    /// `TANDEM_TEST_MONGO_URL`: the MongoDB wire test server.
    public static var mongoURL: String? { value("TANDEM_TEST_MONGO_URL") }
    /// `TANDEM_TEST_NGINX_URL`: nginx's HTTP/1.1 base URL (ends with `/`).
    public static var nginxURL: String? { value("TANDEM_TEST_NGINX_URL") }
    /// `TANDEM_TEST_NGINX_H2_URL`: nginx's HTTP/2 cleartext (h2c, prior knowledge) base URL (ends with `/`).
    public static var nginxH2URL: String? { value("TANDEM_TEST_NGINX_H2_URL") }
    /// `TANDEM_TEST_NGINX_TLS_URL`: nginx over TLS (HTTP/2 or HTTP/1.1 by ALPN, self-signed certificate).
    public static var nginxTLSURL: String? { value("TANDEM_TEST_NGINX_TLS_URL") }
}

/// Runs a shell command and returns its exit status. The child gets an empty signal mask and default
/// SIGPIPE handling: the test process blocks most signals in its threads (and the pools ignore SIGPIPE),
/// and a server started with that mask would never see the SIGTERM of a graceful stop.
@discardableResult
public func shell(_ command: String) -> Int32 {
    var pid = pid_t()
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup("-c"), strdup(command), nil]
    defer { for arg in argv { free(arg) } }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    guard posix_spawn(&pid, "/bin/bash", nil, &attributes, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}
