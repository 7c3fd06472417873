import Glibc
import MongoDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// The engine's offload limit, queue bound and timeout applied to MongoDB commands; a private server is
/// paused (SIGSTOP) to make calls hang, or stopped and restarted.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_MONGO_URL (TANDEM_TEST_SERVERS=mongo scripts/test.sh)"))
struct MongoOffloadTests {
    @Test func neverMoreThanTheLimitAtOnce() throws {
        let h = try Harness(limit: 2, queue: 256)
        let c = uniqueCollection("limit")
        #expect(try h.command(#"{"insert": "\#(c)", "documents": [{"k": 1, "v": "one"}]}"#).rc == 1)
        let results = Box<[Int: AsyncResult]>([:])
        let count = 60
        for i in 0..<count {
            h.worker.start(MongoCommandOperation(pool: h.pool, json: #"{"find": "\#(c)", "filter": {"k": 1}, "projection": {"v": 1, "_id": 0}}"#),
                           timeoutMs: 10_000) { results.value[i] = $0 }
        }
        try h.spin(limitMs: 15_000) { results.value.count == count }
        #expect(results.value.count == count)
        #expect(results.value.values.allSatisfy { $0.rc == 1 && $0.column(0) == ["one"] })
        #expect(h.pool.peakBusyCount <= 2, "driver gauge")
        #expect(h.engine.pool.peakBusyCount <= 2, "offload gauge")
        #expect(h.pool.busyCount == 0)
    }

    @Test func pausedServerFullQueueTimeoutThenRecovery() throws {
        let server = PrivateServer()
        #expect(server.start())
        let h = try Harness(url: server.url, limit: 2, queue: 2,
                            configuration: MongoPoolConfiguration(socketTimeoutMs: 1500))
        let find = #"{"find": "t", "filter": {"k": 1}}"#
        #expect(try h.command(#"{"insert": "t", "documents": [{"k": 1}]}"#).rc == 1, "warm-up: connected")

        server.pause()
        let results = Box<[Int: (AsyncResult, UInt64)]>([:])
        let t0 = nowMs()
        func start(_ i: Int) {
            h.worker.start(MongoCommandOperation(pool: h.pool, json: find), timeoutMs: 400) {
                results.value[i] = ($0, nowMs() - t0)
            }
        }
        start(0)
        start(1)
        try h.spin(limitMs: 300) { h.pool.busyCount == 2 }
        #expect(h.pool.busyCount == 2, "two calls hang on the paused server")
        start(2)  // these two wait in the queue (bound 2)
        start(3)
        let t4 = nowMs()
        start(4)  // refused
        try h.spin(limitMs: 200) { results.value[4] != nil }
        #expect(results.value[4]?.0.rc == -4, "full queue: rejected at once")
        #expect(nowMs() - t4 < 100)
        #expect(results.value.count == 1)

        try h.spin(limitMs: 2000) { results.value.count == 5 }
        for i in 0..<4 {
            #expect(results.value[i]?.0.rc == -3, "job \(i) timed out")
            #expect((results.value[i]?.1 ?? 0) >= 390)
        }
        #expect(h.pool.busyCount == 2, "the slots stay taken until the blocking calls return")
        #expect(h.pool.peakBusyCount <= 2)

        server.resume()
        try h.spin(limitMs: 3000) { h.pool.busyCount == 0 }
        #expect(h.pool.busyCount == 0, "the hung calls returned")
        let after = try h.command(find)
        #expect(after.rc == 1, "\(after.errorText)")
        #expect(h.pool.callCount == 4, "the queued jobs never ran (insert, 2 hung, 1 after)")
    }

    @Test func syncModeTimesOutThroughTheSocketTimeout() throws {
        let server = PrivateServer()
        #expect(server.start())
        let h = try Harness(url: server.url, configuration: MongoPoolConfiguration(socketTimeoutMs: 300))
        #expect(try h.command(#"{"insert": "t", "documents": [{"k": 1}]}"#, mode: .sync).rc == 1)
        server.pause()
        let t0 = nowMs()
        let r = try h.command(#"{"find": "t", "filter": {}}"#, mode: .sync, timeoutMs: 5000)
        #expect(r.rc == -3, "\(r.errorText)")
        #expect(nowMs() - t0 < 2000)
        server.resume()
    }

    @Test func stoppedServerFailsThenRestartedServerWorks() throws {
        let server = PrivateServer()
        #expect(server.start())
        let h = try Harness(url: server.url,
                            configuration: MongoPoolConfiguration(socketTimeoutMs: 2000, serverSelectionTimeoutMs: 800))
        let insert = #"{"insert": "t", "documents": [{"k": 1, "v": "x"}]}"#
        #expect(try h.command(insert).rc == 1)

        server.stop()
        let t0 = nowMs()
        let down = try h.command(#"{"find": "t", "filter": {}}"#, timeoutMs: 3000)
        #expect(down.rc == -1, "\(down.errorText)")
        #expect(!down.errorText.isEmpty)
        #expect(nowMs() - t0 < 2500)

        #expect(server.start())
        let up = try h.command(insert, timeoutMs: 5000)
        #expect(up.rc == 1, "\(up.errorText)")
        let read = try h.command(#"{"find": "t", "filter": {"k": 1}, "projection": {"v": 1, "_id": 0}}"#)
        #expect(read.rc == 1 && read.column(0) == ["x"])
    }
}
