import Glibc
import PostgresDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// Queries against the real PostgreSQL 15 started by `TANDEM_TEST_SERVERS=postgres scripts/test.sh`.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_PG_URL (TANDEM_TEST_SERVERS=postgres scripts/test.sh)"))
struct PostgresQueryTests {
    let url = TestServer.url ?? ""

    @Test func rowsBecomeOneListPerColumnWithNulls() throws {
        let h = try Harness(conninfo: url)
        let r = try h.query("SELECT n, s FROM (VALUES (1, 'a'), (2, NULL), (3, 'c')) v(n, s) ORDER BY n")
        #expect(r.rc == 1, "\(r.errorText)")
        #expect(r.column(0) == ["1", "2", "3"])
        #expect(r.column(1) == ["a", nil, "c"])
        #expect(r.output("rows") == .int(3))
    }

    @Test func noRowsIsMinus2() throws {
        let h = try Harness(conninfo: url)
        let r = try h.query("SELECT 1 WHERE false")
        #expect(r.rc == -2)
        #expect(r.column(0) == [])
    }

    @Test func sqlErrorIsMinus1AndTheConnectionStaysUsable() throws {
        let h = try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 1))
        let bad = try h.query("SELECT * FROM no_such_table_here")
        #expect(bad.rc == -1)
        #expect(bad.errorText.contains("does not exist"))
        #expect(bad.output("sqlstate") == .string("42P01"))
        let good = try h.query("SELECT $1::text || 'x'", ["a"])
        #expect(good.rc == 1 && good.column(0) == ["ax"])
        #expect(h.pool.statistics.connectAttempts == 1, "the same connection served both")
        // Two statements in one call are refused by the extended protocol.
        #expect(try h.query("SELECT 1; SELECT 2").rc == -1)
    }

    @Test func boundParameterCannotWidenTheQuery() throws {
        let h = try Harness(conninfo: url)
        let table = "tandem_pg_users_\(getpid())"
        #expect(try h.query("DROP TABLE IF EXISTS \(table)").rc == -2)
        #expect(try h.query("CREATE TABLE \(table) (u text, a text, b text)").rc == -2)
        let insert = try h.query("INSERT INTO \(table) VALUES ($1, $2, $3), ('bob', 'b1', NULL)", ["alice", "a1", "a2"])
        #expect(insert.rc == -2 && insert.output("affected") == .int(2))
        let hostile = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["x' OR '1'='1"])
        #expect(hostile.rc == -2, "the value is compared as a whole, it cannot add a condition")
        let quote = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["alice'; DROP TABLE \(table); --"])
        #expect(quote.rc == -2)
        let alice = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["alice"])
        #expect(alice.rc == 1 && alice.column(0) == ["a1"] && alice.column(1) == ["a2"])
        let bob = try h.query("SELECT a, b FROM \(table) WHERE u = $1", ["bob"])
        #expect(bob.column(1) == [nil])
        let nullParam = try h.query("SELECT count(*) FROM \(table) WHERE b IS NOT DISTINCT FROM $1", [nil])
        #expect(nullParam.column(0) == ["1"])
        _ = try h.query("DROP TABLE \(table)")
    }

    @Test func manyConcurrentQueriesShareThePool() throws {
        let h = try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 4))
        let results = Box<[Int: AsyncResult]>([:])
        let count = 300
        for i in 0..<count {
            h.worker.start(PostgresQueryOperation(pool: h.pool, sql: "SELECT $1::int * 2, pg_backend_pid()", parameters: [String(i)]),
                           timeoutMs: 10_000) { results.value[i] = $0 }
        }
        #expect(h.pool.connectionCount <= 4)
        try h.spin(limitMs: 10_000) { results.value.count == count }
        #expect(results.value.count == count)
        var backends = Set<String>()
        for i in 0..<count {
            let r = results.value[i]
            #expect(r?.rc == 1 && r?.column(0) == [String(i * 2)])
            if let pid = r?.column(1).first, let pid { backends.insert(pid) }
        }
        #expect(backends.count <= 4 && backends.count >= 1)
        // On a busy machine the queries can all be answered before the last connection finished its
        // handshake: let the connects that are still under way end before counting them.
        try h.spin(limitMs: 10_000) {
            let s = h.pool.statistics
            return s.connectsSucceeded + s.connectFailures == s.connectAttempts
                && h.pool.idleConnectionCount == h.pool.connectionCount
        }
        #expect(h.pool.statistics.connectAttempts <= 4)
        #expect(h.pool.statistics.connectsSucceeded == h.pool.statistics.connectAttempts)
        #expect(h.pool.queuedCount == 0 && h.pool.idleConnectionCount == h.pool.connectionCount)
        let s = try #require(h.engine.snapshot().driver("postgres"))
        #expect(s.completed == UInt64(count) && s.inFlight == 0)
    }

    @Test func fullQueueRejectsWithMinus4() throws {
        let h = try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 1, maxQueue: 3))
        let rcs = Box<[Int]>([])
        let errors = Box<[String]>([])
        for _ in 0..<6 {
            h.worker.start(PostgresQueryOperation(pool: h.pool, sql: "SELECT 1")) {
                rcs.value.append($0.rc)
                if $0.rc == -4 { errors.value.append($0.output("error")?.stringValue ?? "") }
            }
        }
        try h.spin { rcs.value.count == 6 }
        #expect(rcs.value.filter { $0 == -4 }.count == 3, "1 connecting + 3 queued, 2 rejected... \(rcs.value)")
        // The rejection says which bound was hit and what the pool had (the log line of a failed call).
        #expect(errors.value.allSatisfy {
            $0.contains("3 queries wait (db_queue 3)") && $0.contains("of 1 connections busy (db_pool_size)")
        }, "\(errors.value)")
    }

    @Test func timeoutCancelsTheStatementAndTheConnectionIsReused() throws {
        let h = try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 1))
        #expect(try h.query("SELECT 1").rc == 1)
        let t0 = nowMs()
        let slow = try h.query("SELECT pg_sleep(2)", timeoutMs: 200)
        #expect(slow.rc == -3 && slow.status == .timedOut)
        #expect(nowMs() - t0 < 1000)
        let t1 = nowMs()
        let next = try h.query("SELECT 'after'")
        #expect(next.rc == 1 && next.column(0) == ["after"])
        #expect(nowMs() - t1 < 1000, "the cancel request stopped pg_sleep; no 2 s wait")
        #expect(h.pool.statistics.cancelRequests == 1)
        #expect(h.pool.statistics.connectAttempts == 1, "the same connection, drained, served the next query")
        #expect(h.pool.statistics.connectionsDropped == 0)
    }

    @Test func timeoutWithDropPolicyReconnects() throws {
        let h = try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 1, cancelPolicy: .dropConnection))
        #expect(try h.query("SELECT pg_sleep(2)", timeoutMs: 200).rc == -3)
        #expect(h.pool.connectionCount == 0)
        #expect(try h.query("SELECT 2").column(0) == ["2"])
        #expect(h.pool.statistics.connectAttempts == 2 && h.pool.statistics.connectionsDropped == 1)
    }

    @Test func explicitCancelOfAQueuedAndARunningQuery() throws {
        let h = try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 1))
        let results = Box<[Int]>([])
        let running = h.worker.start(PostgresQueryOperation(pool: h.pool, sql: "SELECT pg_sleep(2)")) { results.value.append($0.rc) }
        let queued = h.worker.start(PostgresQueryOperation(pool: h.pool, sql: "SELECT 1")) { results.value.append($0.rc) }
        try h.spin(limitMs: 1000) { h.pool.idleConnectionCount == 0 && h.pool.connectingCount == 0 }
        #expect(h.pool.queuedCount == 1)
        #expect(h.worker.cancel(queued))
        #expect(h.pool.queuedCount == 0)
        #expect(h.worker.cancel(running))
        #expect(results.value == [-1, -1])
        #expect(try h.query("SELECT 3").column(0) == ["3"])
    }

    @Test func terminatedIdleBackendIsReplaced() throws {
        let h = try Harness(conninfo: url + "?application_name=tandem_kill_idle", configuration: PostgresPoolConfiguration(size: 1))
        let pid = try #require(try h.query("SELECT pg_backend_pid()").column(0).first ?? nil)
        let admin = try Harness(conninfo: url)
        #expect(try admin.query("SELECT pg_terminate_backend($1::int)", [pid]).column(0) == ["t"])
        // The idle connection is watched: the server's close is noticed without a query.
        try h.spin(limitMs: 3000) { h.pool.connectionCount == 0 }
        #expect(h.pool.connectionCount == 0)
        let again = try h.query("SELECT pg_backend_pid()")
        #expect(again.rc == 1 && again.column(0).first != pid)
        #expect(h.pool.statistics.connectionsDropped == 1)
    }

    @Test func terminatedBusyBackendFailsThatQueryOnly() throws {
        let h = try Harness(conninfo: url + "?application_name=tandem_kill_busy", configuration: PostgresPoolConfiguration(size: 1))
        let admin = try Harness(conninfo: url)
        let got = Box<AsyncResult?>(nil)
        h.worker.start(PostgresQueryOperation(pool: h.pool, sql: "SELECT pg_sleep(5)")) { got.value = $0 }
        try h.spin(limitMs: 2000) { h.pool.idleConnectionCount == 0 && h.pool.connectingCount == 0 && h.pool.connectionCount == 1 }
        let t0 = nowMs()
        var killed: [String?] = []
        for _ in 0..<20 where killed.isEmpty {  // wait until the backend shows the statement
            killed = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tandem_kill_busy' AND state = 'active'").column(0)
            if killed.isEmpty { _ = try h.reactor.runOnce(timeoutMs: 20) }
        }
        #expect(killed == ["t"])
        try h.spin(limitMs: 3000) { got.value != nil }
        #expect(got.value?.rc == -1)
        #expect(got.value?.errorText.contains("terminat") == true, "\(got.value?.errorText ?? "")")
        #expect(nowMs() - t0 < 2000)
        #expect(try h.query("SELECT 4").column(0) == ["4"])
    }

    @Test func blockingFormInSyncAndOffloadModes() throws {
        let h = try Harness(conninfo: url)
        let sync = try h.query("SELECT $1::text, NULL::text", ["v"], mode: .sync)
        #expect(sync.rc == 1 && sync.column(0) == ["v"] && sync.column(1) == [nil])
        let offload = try h.query("SELECT 1 WHERE $1 = 'no'", ["x' OR '1'='1"], mode: .offload)
        #expect(offload.rc == -2)
        let error = try h.query("SELEC 1", mode: .offload)
        #expect(error.rc == -1 && error.output("sqlstate") == .string("42601"))
        let t0 = nowMs()
        let slow = try h.query("SELECT pg_sleep(2)", mode: .sync, timeoutMs: 300)
        #expect(slow.rc == -3, "statement_timeout: \(slow.errorText)")
        #expect(nowMs() - t0 < 1500)
        #expect(h.pool.connectionCount == 0, "the blocking form does not use the loop's pool")
        #expect(h.pool.blocking.idleCount >= 1, "blocking connections are kept for reuse")
    }

    @Test func blockingFormReplacesATerminatedConnection() throws {
        let settings = try PostgresConnectionSettings(url + "?application_name=tandem_kill_blocking")
        let blocking = PostgresBlockingPool(settings: settings, maxIdle: 1)
        let first = blocking.run(sql: "SELECT pg_backend_pid()", parameters: [], timeoutMs: 2000)
        let pid = try #require(first.column(0).first ?? nil)
        #expect(blocking.idleCount == 1)
        let admin = try Harness(conninfo: url)
        #expect(try admin.query("SELECT pg_terminate_backend($1::int)", [pid]).column(0) == ["t"])
        let second = blocking.run(sql: "SELECT pg_backend_pid()", parameters: [], timeoutMs: 2000)
        #expect(second.rc == 1 && second.column(0).first != pid, "\(second.errorText)")
    }

    @Test func aConnectionLeftInATransactionIsNotReused() throws {
        let h = try Harness(conninfo: url, configuration: PostgresPoolConfiguration(size: 1))
        #expect(try h.query("BEGIN").rc == -2)
        #expect(h.pool.connectionCount == 0 && h.pool.statistics.connectionsDropped == 1)
        #expect(try h.query("SELECT 5").column(0) == ["5"])
        #expect(h.pool.statistics.connectAttempts == 2, "served by a fresh connection")
    }
}

@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_PG_URL (TANDEM_TEST_SERVERS=postgres scripts/test.sh)"))
struct PostgresConnectTests {
    @Test func connectStartDoesNotBlockAndPollsOnReadiness() throws {
        let h = try Harness(conninfo: TestServer.url ?? "",
                            configuration: PostgresPoolConfiguration(size: 4, minConnections: 4))
        let t0 = System.monotonicNanoseconds()
        h.pool.warmUp()
        let startUs = (System.monotonicNanoseconds() - t0) / 1000
        #expect(h.pool.connectingCount == 4)
        try h.spin { h.pool.idleConnectionCount == 4 }
        let s = h.pool.statistics
        #expect(s.connectsSucceeded == 4)
        #expect(s.lastConnectPolls >= 2, "the handshake is spread over several loop wake-ups")
        #expect(startUs < 50_000, "4 x PQconnectStartParams took \(startUs) µs")
        print("postgres connect: 4 x PQconnectStartParams \(startUs) µs; one connect \(s.lastConnectMicroseconds) µs in \(s.lastConnectPolls) polls")
    }
}

extension PostgresConnectTests {
    @Test func warmUpOpensTheMinimumAndRetirementKeepsIt() throws {
        let h = try Harness(conninfo: TestServer.url ?? "",
                            configuration: PostgresPoolConfiguration(size: 8, minConnections: 2, idleTimeoutMs: 1))
        h.pool.warmUp()
        #expect(h.pool.connectingCount == 2, "the minimum, not the pool size")
        try h.spin { h.pool.idleConnectionCount == 2 }
        // Idle far beyond the 1 ms idle timeout: the warmed minimum stays open.
        try h.spin(limitMs: 300) { false }
        #expect(h.pool.connectionCount == 2)
        #expect(h.pool.statistics.connectionsRetired == 0)
        #expect(try h.query("SELECT 1").column(0) == ["1"])
        #expect(h.pool.statistics.connectAttempts == 2, "the first query found a warm connection")

        let none = try Harness(conninfo: TestServer.url ?? "",
                               configuration: PostgresPoolConfiguration(size: 8, minConnections: 0))
        none.pool.warmUp()
        #expect(none.pool.connectionCount == 0, "db_pool_min_size 0: nothing opens before the first query")
    }

    /// Prints native vs offload throughput (the numbers behind the default mode); asserts only sanity.
    @Test func nativeAndOffloadThroughput() throws {
        let h = try Harness(conninfo: TestServer.url ?? "", configuration: PostgresPoolConfiguration(size: 4, maxQueue: 4096))
        for (mode, count) in [(AsyncMode.native, 2000), (AsyncMode.offload, 200)] {
            let done = Box(0)
            let ok = Box(0)
            let t0 = nowMs()
            for i in 0..<count {
                h.worker.start(PostgresQueryOperation(pool: h.pool, sql: "SELECT $1::int", parameters: [String(i)]),
                               mode: mode, timeoutMs: 20_000) { r in
                    done.value += 1
                    if r.rc == 1 { ok.value += 1 }
                }
            }
            try h.spin(limitMs: 20_000) { done.value == count }
            let ms = max(1, nowMs() - t0)
            #expect(ok.value == count)
            print("postgres \(mode): \(count) queries in \(ms) ms = \(UInt64(count) * 1000 / ms)/s")
        }
    }
}
