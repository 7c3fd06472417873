import Foundation
import Glibc
import SIPCore
import TandemServer
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Where scripts/test.sh started MariaDB, if it did.
enum TestMySQL {
    static var url: String? { TestEnvironment.mysqlURL }
    static var port: String { TestEnvironment.value("TANDEM_TEST_MYSQL_PORT") ?? "" }
}

/// avp_db_query / sql_query against the real MariaDB that scripts/test.sh starts (`mysql://` db_url).
@Suite(.serialized, .enabled(if: TestMySQL.url != nil, "TANDEM_TEST_MYSQL_URL not set (start with scripts/test.sh)"))
struct MySQLScriptTests {
    /// Runs SQL with the mariadb client as the test user (fixture set-up only).
    static func sql(_ text: String, port: String = TestMySQL.port) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mariadb")
        process.arguments = ["--no-defaults", "-h127.0.0.1", "-P\(port)", "-utandem", "-ptandem", "tandem", "-e", text]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "mariadb failed: \(text)")
    }

    static func fixtures() throws {
        try sql("""
            DROP TABLE IF EXISTS subscriber;
            CREATE TABLE subscriber (username VARCHAR(64) PRIMARY KEY, credit INT, note VARCHAR(64));
            INSERT INTO subscriber VALUES ('alice', 42, 'gold'), ('bob', 7, NULL), ('carol', 3, 'x');
            """)
    }

    static func globals(_ url: String) -> String {
        """
        loadmodule "db_mysql.so"
        loadmodule "sqlops.so"
        loadmodule "avpops.so"
        modparam("sqlops", "db_url", "\(url)")
        """
    }

    func ask(_ proxy: ScriptedProxy, user: String, method: String = "INVITE", id: String, timeout: Double = 5) throws -> String? {
        let client = try SIPTestClient(proxyPort: proxy.port)
        var text = String(decoding: client.request(method, branch: "z9hG4bK-my-\(id)", callID: "my-\(id)"), as: UTF8.self)
        text = text.replacingOccurrences(of: "From: <sip:alice@127.0.0.1>", with: "From: <sip:\(user)@127.0.0.1>")
        try client.send(Array(text.utf8))
        return client.waitFor(timeout: timeout) { $0 >= 200 }.match?.reasonPhrase
    }

    @Test("async avp_db_query on mysql://: rows and NULLs into AVPs, no row gives -2, a quoted From user cannot widen the query")
    func asyncQuery() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("SELECT credit, note FROM subscriber WHERE username='$fU'", "$avp(credit);$avp(note)"), done);
            }
            route[done] {
                t_reply(299, "rc=$rc credit=$avp(credit) note=$avp(note)");
            }
            """, globals: Self.globals(TestMySQL.url ?? ""))
        #expect(try ask(proxy, user: "alice", id: "1") == "rc=1 credit=42 note=gold")
        #expect(try ask(proxy, user: "bob", id: "2") == "rc=1 credit=7 note=<null>")
        #expect(try ask(proxy, user: "nobody", id: "3") == "rc=-2 credit=<null> note=<null>")
        // x' OR '1'='1, escaped in the SIP URI: bound as a parameter, it matches no row.
        #expect(try ask(proxy, user: "x%27%20OR%20%271%27%3D%271", id: "4") == "rc=-2 credit=<null> note=<null>")
    }

    @Test("Several rows and columns stack in the AVPs; sql_query called synchronously; a query error gives -1; LIKE '%$fU%'")
    func rowsSyncAndErrors() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                sql_query("SELECT username, credit FROM subscriber ORDER BY username DESC", "$avp(u);$avp(c)");
                $var(rc1) = $rc;
                sql_query("SELECT nope FROM nowhere", "$avp(x)");
                $var(err) = $rc;
                sql_query("SELECT credit FROM subscriber WHERE username LIKE '%$fU%'", "$avp(l)");
                t_reply(299, "rc=$var(rc1) u=$avp(u)[0],$avp(u)[1],$avp(u)[2] c=$avp(c)[0],$avp(c)[2] err=$var(err) l=$avp(l)");
            }
            """, globals: Self.globals(TestMySQL.url ?? ""))
        #expect(try ask(proxy, user: "lic", id: "5") == "rc=1 u=alice,bob,carol c=42,3 err=-1 l=42")
        #expect(try ask(proxy, user: "x%27%20OR%20%271%27%3D%271", id: "5b") == "rc=1 u=alice,bob,carol c=42,3 err=-1 l=<null>")
    }

    @Test("async_mode mysql=offload and mysql=sync: the same rows, -2 and bound values as native", arguments: ["offload", "sync"])
    func blockingModes(mode: String) throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("SELECT credit, note FROM subscriber WHERE username='$fU'", "$avp(credit);$avp(note)"), done);
            }
            route[done] {
                t_reply(299, "rc=$rc credit=$avp(credit) note=$avp(note)");
            }
            """, globals: Self.globals(TestMySQL.url ?? "") + "\nmodparam(\"tandem\", \"async_mode\", \"mysql=\(mode)\")")
        #expect(try ask(proxy, user: "alice", id: "m1-\(mode)") == "rc=1 credit=42 note=gold")
        #expect(try ask(proxy, user: "bob", id: "m2-\(mode)") == "rc=1 credit=7 note=<null>")
        #expect(try ask(proxy, user: "x%27%20OR%20%271%27%3D%271", id: "m3-\(mode)") == "rc=-2 credit=<null> note=<null>")
    }

    @Test("db ids: avp_db_query's third argument picks the mysql:// database (id 1 unreachable: -1, id 2: rows)")
    func databaseIDs() throws {
        try Self.fixtures()
        let url = TestMySQL.url ?? ""
        let proxy = try ScriptedProxy(routes: """
            route {
                avp_db_query("SELECT credit FROM subscriber WHERE username='$fU'", "$avp(a)", 2);
                $var(r1) = $rc;
                avp_db_query("SELECT credit FROM subscriber WHERE username='$fU'", "$avp(b)", 1);
                t_reply(299, "r1=$var(r1) a=$avp(a) r2=$rc");
            }
            """, globals: """
            loadmodule "db_mysql.so"
            loadmodule "avpops.so"
            modparam("avpops", "db_url", "1 mysql://nobody:wrong@127.0.0.1:1/none")
            modparam("avpops", "db_url", "2 \(url)")
            """)
        #expect(try ask(proxy, user: "carol", id: "ids") == "r1=1 a=3 r2=-1")
    }

    @Test("A query slower than its async timeout resumes with -3 at once; the next call's query works")
    func timeout() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("OPTIONS")) {
                    async(avp_db_query("SELECT credit FROM subscriber WHERE username='$fU'", "$avp(c)"), done);
                }
                async(avp_db_query("SELECT SLEEP(3)"), done, 0.3);
            }
            route[done] { t_reply(299, "rc=$rc c=$avp(c)"); }
            """, globals: Self.globals(TestMySQL.url ?? ""))
        let started = Date()
        #expect(try ask(proxy, user: "alice", id: "6") == "rc=-3 c=<null>")
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(try ask(proxy, user: "carol", method: "OPTIONS", id: "7") == "rc=1 c=3")
    }

    @Test("MariaDB killed and restarted under load: fast -1 during the outage, success after, nothing left suspended",
          .timeLimit(.minutes(2)))
    func serverKilledAndRestarted() throws {
        let port = closedPort()
        let state = "/tmp/tandem-my-restart-\(getpid())"
        let script = "\(TestEnvironment.repositoryRoot)/scripts/test-servers/mariadb.sh"
        let control = "TANDEM_TEST_STATE_DIR=\(state) TANDEM_TEST_MYSQL_PORT=\(port) bash \(script)"
        defer {
            shell("\(control) stop >/dev/null 2>&1")
            shell("rm -rf \(state)")
        }
        #expect(shell("\(control) start >/dev/null 2>&1") == 0)
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("SELECT CONCAT('up-', $ci)", "$avp(r)"), done, 2);
            }
            route[done] { t_reply(299, "rc=$rc r=$avp(r) ci=$ci"); }
            """, globals: Self.globals("mysql://tandem:tandem@127.0.0.1:\(port)/tandem"))

        /// `count` calls, `inFlight` at a time; returns each call's answer (nil: none within 3 s) and its time.
        var serial = 0
        func load(_ count: Int, inFlight: Int = 5) throws -> [(answer: String?, ms: UInt64)] {
            var answers: [(String?, UInt64)] = []
            let client = try SIPTestClient(proxyPort: proxy.port)
            var batch = 0
            while batch < count {
                let size = min(inFlight, count - batch)
                var sent: [String: UInt64] = [:]
                for _ in 0..<size {
                    serial += 1
                    let id = "myr-\(serial)"
                    sent[id] = nowMs()
                    try client.send(client.request("INVITE", branch: "z9hG4bK-\(id)", callID: id))
                }
                var got: [String: (String?, UInt64)] = [:]
                let deadline = nowMs() + 3000
                while got.count < size && nowMs() < deadline {
                    guard let message = client.receive(timeout: 0.2), let status = message.statusCode, status >= 200,
                          let reason = message.reasonPhrase else { continue }
                    guard let mark = reason.range(of: " ci=") else { continue }
                    let id = String(reason[mark.upperBound...])
                    if let start = sent[id], got[id] == nil { got[id] = (String(reason[..<mark.lowerBound]), nowMs() - start) }
                }
                for id in sent.keys { answers.append(got[id] ?? (nil, 3000)) }
                batch += size
            }
            return answers
        }

        let before = try load(20)
        #expect(before.allSatisfy { $0.answer?.hasPrefix("rc=1 r=up-") == true }, "\(before)")

        // SIGKILL: no goodbye to the pooled connections.
        #expect(shell("kill -KILL $(cat \(state)/mariadb/pid)") == 0)
        usleep(200_000)
        let outage = try load(40)
        #expect(outage.allSatisfy { $0.answer == "rc=-1 r=<null>" }, "\(outage)")
        #expect(outage.map(\.ms).max() ?? 9999 < 1000, "fails fast, not after the 2 s timeout: \(outage.map(\.ms))")

        // Start again (same port), keep calling until the pool is back; then every call succeeds.
        #expect(shell("\(control) start >/dev/null 2>&1") == 0)
        var recovered = false
        for _ in 0..<50 where !recovered {
            recovered = try load(1).first?.answer?.hasPrefix("rc=1") == true
            if !recovered { usleep(100_000) }
        }
        #expect(recovered)
        let after = try load(40)
        #expect(after.allSatisfy { $0.answer?.hasPrefix("rc=1 r=up-") == true }, "\(after)")
        usleep(200_000)
        #expect(proxy.server.drainProgress.suspended == 0)
    }
}
