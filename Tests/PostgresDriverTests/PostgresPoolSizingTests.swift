import PostgresDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// The pool sizing itself from measured latency and rate (issue 19) against the real PostgreSQL of
/// `TANDEM_TEST_SERVERS=postgres scripts/test.sh`: it grows under a burst up to `size`, pipelines rather
/// than opening connections while one carries the load, and closes idle extras after the idle timeout.
/// No timed assertions: waits are bounded, the checks are on counters.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_PG_URL (TANDEM_TEST_SERVERS=postgres scripts/test.sh)"))
struct PostgresPoolSizingTests {
    let url = TestServer.url ?? ""

    /// Starts `count` queries at once; returns their results once all are in.
    private func burst(_ h: Harness, _ sql: String, count: Int) throws -> [AsyncResult] {
        let results = Box<[AsyncResult]>([])
        for _ in 0..<count {
            h.worker.start(PostgresQueryOperation(pool: h.pool, sql: sql), mode: .native, timeoutMs: 10_000) {
                results.value.append($0)
            }
        }
        try h.spin(limitMs: 15_000) { results.value.count == count }
        return results.value
    }

    @Test func growsUnderABurstAndClosesTheIdleExtrasDownToTheMinimum() throws {
        let h = try Harness(conninfo: url + "?application_name=tandem_sizing",
                            configuration: PostgresPoolConfiguration(size: 6, minConnections: 1, idleTimeoutMs: 300))
        // One query at a time: one connection carries it.
        for i in 0..<10 { #expect(try h.query("SELECT $1::int", [String(i)]).rc == 1) }
        #expect(h.pool.statistics.connectAttempts == 1)
        #expect(h.pool.targetConnectionCount == 1)
        #expect(h.pool.measuredLatencyNanoseconds > 0)
        // Six queries of 200 ms at once on single-query connections: the pool opens up to its limit.
        let results = try burst(h, "SELECT pg_sleep(0.2)::text", count: 6)
        #expect(results.allSatisfy { $0.rc == 1 }, "\(results.map(\.rc))")
        #expect(h.pool.statistics.connectsSucceeded == 6)
        #expect(h.pool.connectionCount == 6)
        // The load is gone: after the idle timeout the extras close, one stays.
        try h.spin(limitMs: 10_000) { h.pool.connectionCount == 1 }
        #expect(h.pool.statistics.connectionsRetired == 5)
        #expect(h.pool.statistics.connectionsDropped == 0)
        #expect(try h.query("SELECT 7").column(0) == ["7"], "the remaining connection serves")
        #expect(h.pool.statistics.connectAttempts == 6, "no reconnect was needed")
    }

    @Test func aPipelinedPoolCarriesABurstOnTheConnectionItHasWhileThatIsEnough() throws {
        let h = try Harness(conninfo: url + "?application_name=tandem_sizing_pipe",
                            configuration: PostgresPoolConfiguration(size: 4, pipelineDepth: 16, idleTimeoutMs: 300))
        #expect(try h.query("SELECT 1").rc == 1)
        let results = try burst(h, "SELECT pg_sleep(0.05)::text, pg_backend_pid()", count: 12)
        #expect(results.allSatisfy { $0.rc == 1 })
        #expect(Set(results.map { $0.column(1) }).count == 1, "one backend: the burst was pipelined")
        #expect(h.pool.statistics.connectAttempts == 1)
        // More than one connection carries: the next one opens, and the queries spread.
        let big = try burst(h, "SELECT pg_sleep(0.05)::text, pg_backend_pid()", count: 40)
        #expect(big.allSatisfy { $0.rc == 1 })
        #expect(Set(big.map { $0.column(1) }).count >= 3, "40 queries at depth 16 need 3 connections")
        #expect(h.pool.statistics.connectAttempts <= 4)
    }

    @Test func withoutSizingThePoolKeepsWhatItOpened() throws {
        let h = try Harness(conninfo: url + "?application_name=tandem_sizing_off",
                            configuration: PostgresPoolConfiguration(size: 3, sizesFromLoad: false, idleTimeoutMs: 100))
        let results = try burst(h, "SELECT pg_sleep(0.1)::text", count: 3)
        #expect(results.allSatisfy { $0.rc == 1 })
        #expect(h.pool.connectionCount == 3)
        // Spin the loop a while (bounded by count, not by a timed assertion): nothing closes.
        for _ in 0..<5 { #expect(try h.query("SELECT 1").rc == 1) }
        #expect(h.pool.connectionCount == 3)
        #expect(h.pool.statistics.connectionsRetired == 0)
    }
}
