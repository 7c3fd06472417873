import Glibc
import PostgresDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// libpq pipeline mode (``PostgresPoolConfiguration/pipelineDepth`` > 1) against the real PostgreSQL of
/// `TANDEM_TEST_SERVERS=postgres scripts/test.sh`: many queries in flight on one connection, each answered
/// in order and on its own, and what a failure, a timeout, a cancel or a lost backend does to the others.
/// No timed assertions: every wait is bounded, the checks are on values and counters.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_PG_URL (TANDEM_TEST_SERVERS=postgres scripts/test.sh)"))
struct PostgresPipelineTests {
    let url = TestServer.url ?? ""

    /// A harness with one connection, already connected, carrying up to `depth` queries.
    private func connected(depth: Int, size: Int = 1, application: String = "tandem_pipeline") throws -> Harness {
        let h = try Harness(conninfo: url + "?application_name=\(application)",
                            configuration: PostgresPoolConfiguration(size: size, pipelineDepth: depth,
                                                                             minConnections: size))
        h.pool.warmUp()
        try h.spin(limitMs: 3000) { h.pool.idleConnectionCount == size }
        return h
    }

    /// Starts `sql` as a native job; its result lands in `results[index]`, and `index` in `order`.
    @discardableResult
    private func start(_ h: Harness, _ sql: String, _ parameters: [String?] = [], timeoutMs: UInt64 = 5000,
                       index: Int, into results: Box<[Int: AsyncResult]>, order: Box<[Int]>) -> AsyncJobID {
        h.worker.start(PostgresQueryOperation(pool: h.pool, sql: sql, parameters: parameters), mode: .native,
                       timeoutMs: timeoutMs) { result in
            results.value[index] = result
            order.value.append(index)
        }
    }

    @Test func hundredQueriesInFlightOnOneConnectionEachGetItsOwnResult() throws {
        let h = try connected(depth: 100)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        for i in 0..<100 {
            start(h, "SELECT $1::int * 3, pg_backend_pid()", [String(i)], index: i, into: results, order: order)
        }
        // All sent at once on the one connection: none waits in the pool's queue.
        #expect(h.pool.queuedCount == 0)
        #expect(h.pool.statistics.queriesSent == 100)
        try h.spin(limitMs: 10_000) { results.value.count == 100 }
        for i in 0..<100 {
            #expect(results.value[i]?.rc == 1 && results.value[i]?.column(0) == [String(i * 3)], "query \(i)")
        }
        #expect(order.value == Array(0..<100), "results come back in the order of the requests")
        #expect(Set(results.value.values.map { $0.column(1) }).count == 1, "one backend served them all")
        #expect(h.pool.statistics.connectAttempts == 1)
        #expect(h.pool.idleConnectionCount == 1)
    }

    @Test func queriesGoToTheLeastLoadedConnection() throws {
        let h = try connected(depth: 4, size: 2)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        for i in 0..<8 { start(h, "SELECT pg_backend_pid()", index: i, into: results, order: order) }
        #expect(h.pool.queuedCount == 0)
        try h.spin(limitMs: 5000) { results.value.count == 8 }
        let backends = results.value.values.map { $0.column(0) }
        #expect(Set(backends).count == 2)
        #expect(backends.filter { $0 == backends[0] }.count == 4, "4 and 4: \(backends)")
    }

    @Test func anErrorInTheMiddleFailsOnlyThatQuery() throws {
        let h = try connected(depth: 16)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        for i in 0..<10 {
            let sql = i == 4 ? "SELECT 1 / (0 * $1::int)" : (i == 6 ? "SELEC broken $1" : "SELECT $1::int")
            start(h, sql, [String(i)], index: i, into: results, order: order)
        }
        try h.spin(limitMs: 5000) { results.value.count == 10 }
        #expect(order.value == Array(0..<10))
        #expect(results.value[4]?.rc == -1 && results.value[4]?.output("sqlstate")?.stringValue == "22012")
        #expect(results.value[6]?.rc == -1 && results.value[6]?.output("sqlstate")?.stringValue == "42601")
        for i in [0, 1, 2, 3, 5, 7, 8, 9] {
            #expect(results.value[i]?.rc == 1 && results.value[i]?.column(0) == [String(i)], "query \(i)")
        }
        #expect(h.pool.statistics.connectionsDropped == 0 && h.pool.statistics.connectAttempts == 1)
    }

    @Test func aTimeoutInTheMiddleIsDiscardedAndTheOthersFollowInOrder() throws {
        let h = try connected(depth: 16)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        start(h, "SELECT 'first'", index: 0, into: results, order: order)
        start(h, "SELECT pg_sleep(1), 'slow'", timeoutMs: 200, index: 1, into: results, order: order)
        for i in 2..<6 { start(h, "SELECT $1::text", ["q\(i)"], index: i, into: results, order: order) }
        try h.spin(limitMs: 6000) { results.value.count == 6 }
        #expect(order.value == Array(0..<6))
        #expect(results.value[1]?.rc == -3 && results.value[1]?.status == .timedOut)
        #expect(results.value[0]?.column(0) == ["first"])
        for i in 2..<6 { #expect(results.value[i]?.column(0) == ["q\(i)"], "query \(i)") }
        // Forgotten, not cancelled (a cancel request could have hit a query behind it); the connection stays.
        #expect(h.pool.statistics.abandonedInPipeline == 1)
        #expect(h.pool.statistics.cancelRequests == 0)
        #expect(try h.query("SELECT 'after'").column(0) == ["after"])
        #expect(h.pool.statistics.connectAttempts == 1 && h.pool.statistics.connectionsDropped == 0)
    }

    @Test func aCancelledQueryInTheMiddleIsDiscarded() throws {
        let h = try connected(depth: 16)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        start(h, "SELECT pg_sleep(0.3), 'a'", index: 0, into: results, order: order)
        let cancelled = start(h, "SELECT 'b'", index: 1, into: results, order: order)
        start(h, "SELECT 'c'", index: 2, into: results, order: order)
        #expect(h.worker.cancel(cancelled))
        #expect(results.value[1]?.rc == -1 && results.value[1]?.status == .cancelled)
        try h.spin(limitMs: 5000) { results.value.count == 3 }
        #expect(results.value[0]?.column(1) == ["a"])
        #expect(results.value[2]?.column(0) == ["c"])
        #expect(order.value == [1, 0, 2])
        #expect(h.pool.statistics.abandonedInPipeline == 1 && h.pool.statistics.cancelRequests == 0)
        #expect(try h.query("SELECT 'after'").column(0) == ["after"])
        #expect(h.pool.statistics.connectAttempts == 1)
    }

    @Test func aCancelledQueryAloneOnItsConnectionIsStoppedByACancelRequest() throws {
        let h = try connected(depth: 16)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        let sleeping = start(h, "SELECT pg_sleep(5)", index: 0, into: results, order: order)
        #expect(h.worker.cancel(sleeping))
        #expect(h.pool.statistics.cancelRequests == 1 && h.pool.statistics.abandonedInPipeline == 0)
        // The drained connection serves again (the cancel request stopped pg_sleep: no 5 s wait needed,
        // but the limit is generous on a loaded machine).
        #expect(try h.query("SELECT 'after'", timeoutMs: 8000).column(0) == ["after"])
        // Whether the drained connection itself or a fresh one serves next depends on the drain limit
        // against a cancel request that can be slow on a loaded machine (seen in a full run): not asserted.
    }

    @Test(arguments: [1, 16])
    func aLateCancelRequestNeverStopsTheNextQuery(depth: Int) throws {
        let h = try connected(depth: depth)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        for round in 0..<5 {
            // A fast query cancelled at once usually ends before its cancel request went out: the
            // connection waits for that request before it takes the next query.
            let quick = start(h, "SELECT 1", index: round, into: results, order: order)
            #expect(h.worker.cancel(quick))
            let next = try h.query("SELECT pg_sleep(0.05)::text, 'next'")
            #expect(next.rc == 1 && next.column(1) == ["next"], "round \(round): \(next.rc) \(next.errorText)")
        }
        #expect(h.pool.statistics.cancelRequests == 5)
        #expect(h.pool.statistics.connectAttempts == 1 && h.pool.statistics.connectionsDropped == 0)
    }

    @Test func aTerminatedBackendFailsEveryQueryInFlightAndTheNextGoesToANewConnection() throws {
        let h = try connected(depth: 16, application: "tandem_pipeline_kill")
        let admin = try Harness(conninfo: url)
        let results = Box<[Int: AsyncResult]>([:])
        let order = Box<[Int]>([])
        start(h, "SELECT pg_sleep(5)", index: 0, into: results, order: order)
        for i in 1..<5 { start(h, "SELECT $1::int", [String(i)], index: i, into: results, order: order) }
        var killed: [String?] = []
        for _ in 0..<50 where killed.isEmpty {  // wait until the backend shows the statement
            killed = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tandem_pipeline_kill' AND state = 'active'").column(0)
            if killed.isEmpty { _ = try h.reactor.runOnce(timeoutMs: 20) }
        }
        #expect(killed == ["t"])
        try h.spin(limitMs: 4000) { results.value.count == 5 }
        for i in 0..<5 {
            #expect(results.value[i]?.rc == -1, "query \(i): \(results.value[i]?.errorText ?? "none")")
        }
        #expect(results.value[0]?.errorText.contains("terminat") == true, "\(results.value[0]?.errorText ?? "")")
        #expect(h.pool.statistics.connectionsDropped == 1)
        #expect(try h.query("SELECT 'again'").column(0) == ["again"])
        #expect(h.pool.statistics.connectAttempts == 2)
    }
}
