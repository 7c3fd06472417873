import Glibc
import MySQLDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// Queries against the real MariaDB started by `TANDEM_TEST_SERVERS=mariadb scripts/test.sh`.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_MYSQL_URL (TANDEM_TEST_SERVERS=mariadb scripts/test.sh)"))
struct MySQLQueryTests {
    let url = TestServer.url ?? ""

    @Test func rowsBecomeOneListPerColumnWithNulls() throws {
        let h = try Harness(url: url)
        let text = try h.query("SELECT 1 AS n, 'a' AS s UNION ALL SELECT 2, NULL UNION ALL SELECT 3, 'c' ORDER BY n")
        #expect(text.rc == 1, "\(text.errorText)")
        #expect(text.column(0) == ["1", "2", "3"])
        #expect(text.column(1) == ["a", nil, "c"])
        #expect(text.output("rows") == .int(3))
        // The same through a prepared statement (a bound value): numbers, NULL, a long value.
        let long = String(repeating: "x", count: 1000)
        let bound = try h.query("SELECT $1 + 1, NULL, CONCAT('p', $2), 2.5, DATE('2024-02-29')", ["41", long])
        #expect(bound.rc == 1, "\(bound.errorText)")
        #expect(bound.column(0) == ["42"])
        #expect(bound.column(1) == [nil])
        #expect(bound.column(2) == ["p" + long])
        #expect(bound.column(3) == ["2.5"])
        #expect(bound.column(4) == ["2024-02-29"])
        #expect(h.pool.statistics.connectsSucceeded == 1)
        #expect(h.pool.statistics.lastConnectSteps >= 1, "the connect suspended and was resumed from the reactor")
    }

    @Test func noRowsIsMinus2AndErrorsAreMinus1() throws {
        let h = try Harness(url: url, configuration: MySQLPoolConfiguration(size: 1))
        let none = try h.query("SELECT 1 FROM DUAL WHERE 1 = 0")
        #expect(none.rc == -2 && none.column(0) == [])
        let noneBound = try h.query("SELECT 1 FROM DUAL WHERE $1 = 'b'", ["a"])
        #expect(noneBound.rc == -2)
        let bad = try h.query("SELECT * FROM no_such_table_here")
        #expect(bad.rc == -1)
        #expect(bad.errorText.contains("doesn't exist"), "\(bad.errorText)")
        #expect(bad.output("errno") == .int(1146))
        let badBound = try h.query("SELECT nope FROM no_such_table_here WHERE x = $1", ["a"])
        #expect(badBound.rc == -1)
        // Two statements in one call are refused (multi-statements are off).
        #expect(try h.query("SELECT 1; SELECT 2").rc == -1)
        let good = try h.query("SELECT CONCAT($1, 'x')", ["a"])
        #expect(good.rc == 1 && good.column(0) == ["ax"])
        #expect(h.pool.statistics.connectAttempts == 1, "the same connection served them all")
        // `||` concatenates (the script compiles '%$var%' to '%' || $n || '%').
        #expect(try h.query("SELECT '%' || $1 || '%'", ["mid"]).column(0) == ["%mid%"])
    }

    @Test func boundParameterCannotWidenTheQuery() throws {
        let h = try Harness(url: url)
        let table = "tandem_my_users_\(getpid())"
        #expect(try h.query("DROP TABLE IF EXISTS \(table)").rc == -2)
        #expect(try h.query("CREATE TABLE \(table) (u VARCHAR(64), a VARCHAR(64), b VARCHAR(64))").rc == -2)
        let insert = try h.query("INSERT INTO \(table) VALUES ($1, $2, $3), ('bob', 'b1', NULL)", ["alice", "a1", "a2"])
        #expect(insert.rc == -2 && insert.output("affected") == .int(2), "\(insert.errorText)")
        let hostile = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["x' OR '1'='1"])
        #expect(hostile.rc == -2, "the value is compared as a whole, it cannot add a condition")
        let quote = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["alice'; DROP TABLE \(table); --"])
        #expect(quote.rc == -2)
        let alice = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["alice"])
        #expect(alice.rc == 1 && alice.column(0) == ["a1"] && alice.column(1) == ["a2"])
        let both = try h.query("SELECT u, b FROM \(table) WHERE u IN ($1, $2) ORDER BY u", ["alice", "bob"])
        #expect(both.column(0) == ["alice", "bob"] && both.column(1) == ["a2", nil])
        let nullParam = try h.query("SELECT count(*) FROM \(table) WHERE b <=> $1", [nil])
        #expect(nullParam.column(0) == ["1"])
        for mode in [AsyncMode.offload, .sync] {
            let blocking = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["x' OR '1'='1"], mode: mode)
            #expect(blocking.rc == -2, "\(mode)")
            let rows = try h.query("SELECT u, b FROM \(table) WHERE u IN ($1, $2) ORDER BY u", ["alice", "bob"], mode: mode)
            #expect(rows.rc == 1 && rows.column(0) == ["alice", "bob"] && rows.column(1) == ["a2", nil], "\(mode) \(rows.errorText)")
        }
        _ = try h.query("DROP TABLE \(table)")
    }

    @Test func manyConcurrentQueriesShareThePoolAndTheQueueIsBounded() throws {
        let h = try Harness(url: url, configuration: MySQLPoolConfiguration(size: 4, maxQueue: 200))
        let results = Box<[Int: AsyncResult]>([:])
        let count = 204 + 50
        for i in 0..<count {
            h.worker.start(MySQLQueryOperation(pool: h.pool, sql: "SELECT $1 * 2, CONNECTION_ID()", parameters: [String(i)]),
                           timeoutMs: 10_000) { results.value[i] = $0 }
        }
        #expect(h.pool.connectionCount <= 4)
        try h.spin(limitMs: 10_000) { results.value.count == count }
        #expect(results.value.count == count)
        var connections = Set<String>()
        var rejected = 0
        for i in 0..<count {
            guard let r = results.value[i] else { continue }
            if r.rc == -4 { rejected += 1; continue }
            #expect(r.rc == 1 && r.column(0) == [String(i * 2)], "\(i): \(r.rc) \(r.errorText)")
            if let id = r.column(1).first, let id { connections.insert(id) }
        }
        #expect(rejected == count - 200, "all wait while the connections open: 200 queued, the rest rejected at once")
        #expect(connections.count <= 4 && connections.count >= 1)
    }

    @Test func timeoutIsMinus3KillsTheStatementAndThePoolStaysUsable() throws {
        let h = try Harness(url: url, configuration: MySQLPoolConfiguration(size: 2))
        #expect(try h.query("SELECT 'warm'").rc == 1)
        let t0 = nowMs()
        let slow = try h.query("SELECT SLEEP($1)", ["5"], timeoutMs: 300)
        #expect(slow.rc == -3)
        #expect(nowMs() - t0 < 1500)
        #expect(h.pool.statistics.killRequests == 1)
        // The kill reached the server: no SLEEP of ours is left running.
        var running = ""
        for _ in 0..<40 {
            let list = try h.query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(?)'")
            running = list.column(0).first.flatMap { $0 } ?? "?"
            if running == "0" { break }
            try h.spin(limitMs: 50) { false }
        }
        #expect(running == "0")
        let after = try h.query("SELECT $1", ["still here"])
        #expect(after.rc == 1 && after.column(0) == ["still here"])
        // Blocking forms: max_statement_time stops the statement, -3 too.
        let offload = try h.query("SELECT SLEEP(5)", mode: .offload, timeoutMs: 300)
        #expect(offload.rc == -3, "\(offload.errorText)")
    }
}
