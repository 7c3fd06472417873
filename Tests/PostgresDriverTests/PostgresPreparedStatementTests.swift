import Glibc
import PostgresDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// Named prepared statements (``PostgresPoolConfiguration/preparesStatements``) against the real PostgreSQL
/// of `TANDEM_TEST_SERVERS=postgres scripts/test.sh`: a text is prepared once per connection (at its second
/// use: a text run once is never prepared) and then only executed; a text that cannot be prepared fails like an unprepared one and leaves the connection usable;
/// a plan that no longer fits its table is prepared anew and the query run again, so nothing shows.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_PG_URL (TANDEM_TEST_SERVERS=postgres scripts/test.sh)"))
struct PostgresPreparedStatementTests {
    let url = TestServer.url ?? ""

    private func harness(depth: Int = 1, prepares: Bool = true) throws -> Harness {
        try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 1, pipelineDepth: depth,
                                                                            preparesStatements: prepares))
    }

    @Test(arguments: [1, 4])
    func aTextIsPreparedOnceOnItsConnectionAndThenOnlyExecuted(depth: Int) throws {
        let h = try harness(depth: depth)
        for i in 0..<3 {
            let r = try h.query("SELECT $1::int + 1", [String(i)])
            #expect(r.rc == 1 && r.column(0) == [String(i + 1)], "\(r.errorText)")
        }
        let listed = try h.query("SELECT statement FROM pg_prepared_statements ORDER BY name")
        #expect(listed.column(0) == ["SELECT $1::int + 1"], "the listing itself ran once: not prepared")
        #expect(h.pool.statistics.statementsPrepared == 1)
        #expect(h.pool.statistics.connectAttempts == 1)
    }

    @Test func offEveryQueryRunsUnprepared() throws {
        let h = try harness(prepares: false)
        #expect(try h.query("SELECT $1::int + 1", ["1"]).column(0) == ["2"])
        #expect(try h.query("SELECT $1::int + 1", ["1"]).column(0) == ["2"])
        #expect(try h.query("SELECT count(*) FROM pg_prepared_statements").column(0) == ["0"])
        #expect(h.pool.statistics.statementsPrepared == 0)
    }

    @Test(arguments: [1, 4])
    func aTextThatCannotBePreparedFailsAndTheConnectionGoesOn(depth: Int) throws {
        let h = try harness(depth: depth)
        for _ in 0..<3 {  // unprepared, then a failed prepare, then again
            let bad = try h.query("SELECT * FROM no_such_table_prepared")
            #expect(bad.rc == -1 && bad.output("sqlstate") == .string("42P01"), "\(bad.errorText)")
        }
        for _ in 0..<2 {
            #expect(try h.query("SELECT 1; SELECT 2").rc == -1, "several statements are refused, as unprepared")
        }
        let good = try h.query("SELECT $1::text || 'x'", ["a"])
        #expect(good.rc == 1 && good.column(0) == ["ax"], "\(good.errorText)")
        #expect(h.pool.statistics.connectAttempts == 1, "the same connection served every query")
    }

    @Test(arguments: [1, 4])
    func aChangedTableIsPreparedAnewAndTheQueryRunsAgain(depth: Int) throws {
        let h = try harness(depth: depth)
        let table = "tandem_prepared_\(getpid())_\(depth)"
        _ = try h.query("DROP TABLE IF EXISTS \(table)")
        _ = try h.query("CREATE TABLE \(table) (a int)")
        _ = try h.query("INSERT INTO \(table) VALUES (1)")
        let sql = "SELECT * FROM \(table) WHERE a = $1"
        for _ in 0..<3 { #expect(try h.query(sql, ["1"]).column(0) == ["1"]) }  // prepared from the second
        #expect(h.pool.statistics.statementsPrepared >= 1)
        _ = try h.query("ALTER TABLE \(table) ADD COLUMN b text DEFAULT 'x'")
        let after = try h.query(sql, ["1"])
        #expect(after.rc == 1 && after.column(1) == ["x"], "\(after.errorText)")
        #expect(try h.query(sql, ["1"]).column(1) == ["x"])
        _ = try h.query("DROP TABLE \(table)")
        #expect(h.pool.statistics.connectAttempts == 1)
    }
}
