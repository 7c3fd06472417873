import Foundation
import Glibc
import Logging
import SIPCore
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Workers open their PostgreSQL pools' `db_pool_min_size` connections when they start (as OpenSIPS's
/// modules do in child_init), in the background: connections exist before the first query, and a
/// database that is down at start neither stops the proxy nor keeps queries failing once it is up.
/// No timed assertions: every wait is bounded, the checks are on values.
@Suite(.serialized, .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
struct PostgresWarmUpTests {
    static let routes = """
        route {
            async(avp_db_query("SELECT 7", "$avp(v)"), done);
        }
        route[done] {
            t_reply(299, "rc=$rc v=$avp(v)");
        }
        """

    static func globals(url: String, minSize: Int? = nil) -> String {
        """
        loadmodule "sqlops.so"
        loadmodule "avpops.so"
        modparam("sqlops", "db_url", "\(url)")
        \(minSize.map { "modparam(\"tandem\", \"db_pool_min_size\", \($0))" } ?? "")
        """
    }

    /// The backends of `application` the server lists in pg_stat_activity (-1 if psql failed).
    static func backends(application: String) throws -> Int {
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(application)'"
        let (status, stdout, _) = try ConfigFilesTests.shell("psql '\(TestPostgres.url ?? "")' -tAc \"\(sql)\"")
        guard status == 0 else { return -1 }
        return Int(stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Sends a request and returns the final reply's reason phrase.
    func ask(_ proxy: ScriptedProxy, id: String) throws -> String? {
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-warm-\(id)", callID: "warm-\(id)"))
        return client.waitFor(timeout: 5) { $0 >= 200 }.match?.reasonPhrase
    }

    @Test("After start, before any query, each worker has db_pool_min_size connections (pg_stat_activity)")
    func connectionsOpenAtStart() throws {
        let application = "tandem_warm_\(getpid())"
        let url = (TestPostgres.url ?? "") + "?application_name=\(application)"
        let proxy = try ScriptedProxy(routes: Self.routes, globals: Self.globals(url: url, minSize: 2), workers: 2)
        var count = try Self.backends(application: application)
        for _ in 0..<100 where count < 4 {
            usleep(50_000)
            count = try Self.backends(application: application)
        }
        #expect(count == 4, "2 workers × db_pool_min_size 2, before any query")
        #expect(try ask(proxy, id: "1") == "rc=1 v=7")
        _ = proxy
    }

    @Test("The default db_pool_min_size (1) opens one connection per worker at start")
    func defaultMinimumIsOnePerWorker() throws {
        let application = "tandem_warm_default_\(getpid())"
        let url = (TestPostgres.url ?? "") + "?application_name=\(application)"
        let proxy = try ScriptedProxy(routes: Self.routes, globals: Self.globals(url: url), workers: 2)
        var count = try Self.backends(application: application)
        for _ in 0..<100 where count < 2 {
            usleep(50_000)
            count = try Self.backends(application: application)
        }
        #expect(count == 2)
        _ = proxy
    }

    @Test("A database down at start: the proxy starts and serves, logs the cause, and queries succeed once it is up")
    func databaseDownAtStart() throws {
        let server = BackendRestartLoadTests.PrivateServer(name: "postgres", portVariable: "TANDEM_TEST_PG_PORT")
        defer { server.remove() }
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: Self.routes,
                                      globals: Self.globals(url: "postgres://postgres@127.0.0.1:\(server.port)/tandem"),
                                      workers: 2, logger: capture.logger(level: .info))
        let lost = capture.wait(timeout: 10) { $0.message == "backend lost" && $0.metadata["driver"] == "postgres" }
        #expect(lost != nil, "the failed start-up connect is logged")
        #expect(lost?.metadata["error"]?.isEmpty == false, "with its cause: \(String(describing: lost))")
        #expect(try ask(proxy, id: "down") == "rc=-1 v=<null>", "the proxy serves while the database is down")

        try #require(server.start(), "postgres did not start")
        var reply = try ask(proxy, id: "up-0")
        for attempt in 1..<50 where reply != "rc=1 v=7" {
            usleep(200_000)
            reply = try ask(proxy, id: "up-\(attempt)")
        }
        #expect(reply == "rc=1 v=7", "queries succeed once the database is up")
    }
}
