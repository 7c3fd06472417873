import Foundation
import Glibc
import SIPCore
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Where scripts/test.sh started PostgreSQL, if it did.
enum TestPostgres {
    static var url: String? { TestEnvironment.postgresURL }
}

/// avp_db_query / sql_query against the real PostgreSQL 15 that scripts/test.sh starts.
@Suite(.serialized, .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
struct PostgresScriptTests {
    static var url: String? { TestPostgres.url }

    /// Runs SQL with psql (test fixture set-up only).
    static func psql(_ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [url ?? "", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "psql failed: \(sql)")
    }

    static func fixtures() throws {
        try psql("""
            DROP TABLE IF EXISTS subscriber;
            CREATE TABLE subscriber (username text PRIMARY KEY, credit int, note text);
            INSERT INTO subscriber VALUES ('alice', 42, 'gold'), ('bob', 7, NULL), ('carol', 3, 'x');
            """)
    }

    static let globals = """
        loadmodule "sqlops.so"
        loadmodule "avpops.so"
        loadmodule "cfgutils.so"
        loadmodule "cachedb_local.so"
        modparam("sqlops", "db_url", "\(url ?? "")")
        """

    func ask(_ proxy: ScriptedProxy, user: String, method: String = "INVITE", id: String) throws -> String? {
        let client = try SIPTestClient(proxyPort: proxy.port)
        var text = String(decoding: client.request(method, branch: "z9hG4bK-pg-\(id)", callID: "pg-\(id)"),
                          as: UTF8.self)
        text = text.replacingOccurrences(of: "From: <sip:alice@127.0.0.1>", with: "From: <sip:\(user)@127.0.0.1>")
        try client.send(Array(text.utf8))
        return client.waitFor(timeout: 5) { $0 >= 200 }.match?.reasonPhrase
    }

    @Test("async avp_db_query: rows into AVPs, no row gives -2, a quoted From user cannot widen the query")
    func asyncQuery() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("SELECT credit, note FROM subscriber WHERE username='$fU'", "$avp(credit);$avp(note)"), done);
            }
            route[done] {
                t_reply(299, "rc=$rc credit=$avp(credit) note=$avp(note)");
            }
            """, globals: Self.globals)
        #expect(try ask(proxy, user: "alice", id: "1") == "rc=1 credit=42 note=gold")
        #expect(try ask(proxy, user: "bob", id: "2") == "rc=1 credit=7 note=<null>")
        #expect(try ask(proxy, user: "nobody", id: "3") == "rc=-2 credit=<null> note=<null>")
        // x' OR '1'='1, escaped in the SIP URI: bound as a parameter, it matches no row.
        #expect(try ask(proxy, user: "x%27%20OR%20%271%27%3D%271", id: "4") == "rc=-2 credit=<null> note=<null>")
    }

    @Test("Several rows stack in the AVP; sql_query called synchronously; a query error gives -1")
    func rowsSyncAndErrors() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                sql_query("SELECT username FROM subscriber ORDER BY username", "$avp(u)");
                $var(rc1) = $rc;
                sql_query("SELECT nope FROM nowhere", "$avp(x)");
                $var(err) = $rc;
                sql_query("SELECT credit FROM subscriber WHERE username='$fU'", "$avp(c)");
                t_reply(299, "rc=$var(rc1) u=$avp(u)[0],$avp(u)[1],$avp(u)[2] err=$var(err) c=$avp(c)");
            }
            """, globals: Self.globals)
        #expect(try ask(proxy, user: "alice", id: "5") == "rc=1 u=carol,bob,alice err=-1 c=42")
        #expect(try ask(proxy, user: "x%27%20OR%20%271%27%3D%271", id: "5b") == "rc=1 u=carol,bob,alice err=-1 c=<null>")
    }

    @Test("A query slower than its async timeout resumes with -3; launch() report routes get the rows")
    func timeoutAndLaunch() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("OPTIONS")) {
                    if (cache_fetch("local", "report", $var(r))) { sl_send_reply(299, "$var(r)"); exit; }
                    sl_send_reply(404, "not yet");
                    exit;
                }
                if (is_method("MESSAGE")) {
                    launch(avp_db_query("SELECT credit FROM subscriber WHERE username='$fU'", "$avp(c)"), report, "$fU");
                    sl_send_reply(200, "launched");
                    exit;
                }
                async(avp_db_query("SELECT pg_sleep(2)"), done, 0.3);
            }
            route[done] { t_reply(299, "rc=$rc"); }
            route[report] { cache_store("local", "report", "rc=$rc c=$avp(c) p=$param(1)"); }
            """, globals: Self.globals)
        let started = Date()
        #expect(try ask(proxy, user: "alice", id: "6") == "rc=-3")
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(try ask(proxy, user: "carol", method: "MESSAGE", id: "7") == "launched")
        var answer: String?
        for attempt in 0..<30 {
            answer = try ask(proxy, user: "carol", method: "OPTIONS", id: "8-\(attempt)")
            if answer?.hasPrefix("rc=") == true { break }
            usleep(100_000)
        }
        #expect(answer == "rc=1 c=3 p=carol")
    }
}
