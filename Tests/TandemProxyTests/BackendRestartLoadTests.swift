import Foundation
import Glibc
import Logging
import Testing
import TandemAsync
import TandemServer
@testable import TandemProxy
import TandemTestSupport

/// Each backend killed and restarted under a SIPp call load (issue 14 item 6): a private instance of the
/// server (its own state directory and port, so the shared test servers are untouched) is killed 3 s into
/// 100 calls/s and started again 2 s later. Every call runs one async() of that backend with a 1 s timeout
/// and is relayed whatever the outcome, so a call without a final reply shows as a failed SIPp call.
/// PostgreSQL is stopped in immediate mode and its cluster started again (about 0.5 s), the others get
/// SIGKILL and a fresh instance on the same port.
/// Asserted: every call successful, the driver's counters balanced with nothing in flight at the end, and
/// exactly one "backend lost" and one "backend recovered" line for the driver.
@Suite(.serialized, .exclusiveLoad, .enabled(if: SIPp.isAvailable, "needs sipp"))
struct BackendRestartLoadTests {
    /// A private test server run by `scripts/test-servers/NAME.sh` on a fixed port.
    struct PrivateServer {
        let name: String
        let portVariable: String
        let port = Ports.free()
        let state = "/tmp/tandem-restart-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        var control: String {
            "TANDEM_TEST_STATE_DIR=\(state) \(portVariable)=\(port) bash \(TestEnvironment.repositoryRoot)/scripts/test-servers/\(name).sh"
        }

        func start() -> Bool { shell("\(control) start >\(state)-\(name).log 2>&1") == 0 }
        /// SIGKILL for a server with a pid file; PostgreSQL's immediate shutdown otherwise (`crash`).
        func kill() {
            let pidFile = "\(state)/\(name)/pid"
            if FileManager.default.fileExists(atPath: pidFile) {
                shell("kill -KILL $(cat \(pidFile)) 2>/dev/null; sleep 0.2")
            } else {
                shell("\(control) crash >>\(state)-\(name).log 2>&1")
            }
        }
        /// Starts it again: PostgreSQL's cluster as it was (`resume`), the others afresh.
        func restart() -> Bool {
            name == "postgres" ? shell("\(control) resume >>\(state)-\(name).log 2>&1") == 0 : start()
        }
        func remove() {
            shell("\(control) stop >/dev/null 2>&1")
            shell("rm -rf \(state) \(state)-\(name).log")
        }
    }

    /// Runs the load with `call` (an async-capable function of `driver`) and checks the outcome.
    func run(server: PrivateServer, driver: String, call: String, globals: String,
             calls: Int = 1_000, killAfter: Double = 3, downFor: Double = 2) throws {
        defer { server.remove() }
        try #require(server.start(), "\(server.name) did not start")
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (has_totag()) {
                    if (loose_route()) { t_relay(); exit; }
                    sl_send_reply(404, "Not Here");
                    exit;
                }
                record_route();
                async(\(call), done, 1);
            }
            route[done] {
                t_relay();
            }
            """, globals: globals, logger: capture.logger(level: .notice))
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "\(calls)"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: calls, rate: 100)
        usleep(useconds_t(killAfter * 1_000_000))
        server.kill()
        usleep(useconds_t(downFor * 1_000_000))
        #expect(server.restart(), "\(server.name) did not start again")
        let client = uac.wait(seconds: 60)
        let peer = uas.wait(seconds: 30)
        #expect(client.successful == calls && client.failed == 0,
                "\(client.successful) ok, \(client.failed) failed\n\(client.output)")
        #expect(peer.failed == 0, "\(peer.output)")

        var counters = try #require(proxy.server.engine.snapshot().driver(driver))
        for _ in 0..<40 where counters.inFlight != 0 {
            usleep(50_000)
            counters = try #require(proxy.server.engine.snapshot().driver(driver))
        }
        #expect(counters.inFlight == 0, "\(counters)")
        #expect(counters.started == calls, "\(counters)")
        #expect(counters.started == counters.completed + counters.timedOut + counters.cancelled + counters.rejected
                + counters.inFlight, "\(counters)")
        _ = capture.wait(timeout: 3) { $0.message == "backend recovered" }
        let lines = capture.all.filter { $0.message.hasPrefix("backend ") && $0.metadata["driver"] == driver }
        let health = proxy.server.engine.backends.all.filter { $0.driver == driver }
        #expect(lines.map(\.message) == ["backend lost", "backend recovered"],
                "\(lines); losses \(health.map(\.lossCount)), recoveries \(health.map(\.recoveryCount)); \(counters)")
    }

    @Test("PostgreSQL killed (immediate shutdown) and restarted under 100 calls/s",
          .enabled(if: TestPostgres.url != nil, "needs postgresql-15 (TANDEM_TEST_SERVERS=postgres)"))
    func postgres() throws {
        let server = PrivateServer(name: "postgres", portVariable: "TANDEM_TEST_PG_PORT")
        try run(server: server, driver: "postgres", call: #"avp_db_query("SELECT 1", "$avp(x)")"#, globals: """
            loadmodule "avpops.so"
            modparam("avpops", "db_url", "postgres://postgres@127.0.0.1:\(server.port)/tandem")
            """)
    }

    @Test("slapd killed (SIGKILL) and restarted under 100 calls/s",
          .enabled(if: TestLDAP.url != nil, "needs slapd (TANDEM_TEST_SERVERS=slapd)"))
    func ldap() throws {
        let server = PrivateServer(name: "slapd", portVariable: "TANDEM_TEST_LDAP_PORT")
        let config = NSTemporaryDirectory() + "tandem-ldap-restart-\(getpid()).cfg"
        try """
            [people]
            ldap_server_url = "ldap://127.0.0.1:\(server.port)/"
            ldap_bind_dn = "cn=admin,dc=example,dc=com"
            ldap_bind_password = "secret"
            ldap_network_timeout = 500
            ldap_client_bind_timeout = 500
            """.write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        try run(server: server, driver: "ldap",
                call: #"ldap_search("ldap://people/ou=people,dc=example,dc=com?uid?sub?(uid=alice)")"#, globals: """
            loadmodule "ldap.so"
            modparam("ldap", "config_file", "\(config)")
            """)
    }

    @Test("The HTTP server killed (SIGKILL) and restarted under 100 calls/s",
          .enabled(if: TestHTTP.url != nil, "needs the HTTP test server (TANDEM_TEST_SERVERS=http)"))
    func http() throws {
        let server = PrivateServer(name: "http", portVariable: "TANDEM_TEST_HTTP_PORT")
        try run(server: server, driver: "http",
                call: #"rest_get("http://127.0.0.1:\#(server.port)/health", $var(body))"#, globals: """
            loadmodule "rest_client.so"
            modparam("rest_client", "connection_timeout", 1)
            """)
    }

    @Test("The MongoDB-wire server killed (SIGKILL) and restarted under 100 calls/s",
          .enabled(if: TestMongo.url != nil, "needs nx-27017 (TANDEM_TEST_SERVERS=mongo)"))
    func mongo() throws {
        let server = PrivateServer(name: "mongo", portVariable: "TANDEM_TEST_MONGO_PORT")
        try run(server: server, driver: "mongodb",
                call: #"avp_db_query("{\"find\": \"routing\", \"filter\": {}}", "$avp(x)")"#, globals: """
            loadmodule "avpops.so"
            modparam("avpops", "db_url", "mongodb://127.0.0.1:\(server.port)/tandem")
            modparam("tandem", "offload_limit", "mongodb=4")
            """, downFor: 3)
    }
}
