import Foundation
import Glibc
import Reactor
import Synchronization
import Testing
@testable import TandemAsync
import TandemTestSupport

@Suite struct OffloadTests {
    private func engine(limits: [String: Int], bounds: [String: Int] = [:], timeoutMs: UInt64 = 30_000) -> AsyncEngine {
        AsyncEngine(configuration: AsyncEngineConfiguration(
            defaultTimeoutMs: timeoutMs,
            offload: OffloadPool.Configuration(limits: OffloadLimits(limits), queueBounds: OffloadLimits(bounds),
                                               defaultLimit: 2, defaultQueueBound: 64)))
    }

    @Test func limitHoldsAndJobsNeverRunOnTheWorker() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["db": 3], bounds: ["db": 100])
        let worker = engine.makeWorker(reactor: reactor)
        let gauge = Gauge()
        let me = pthread_self()
        let onWorker = Shared(0)
        let done = Box(0)
        for _ in 0..<30 {
            let op = BlockingOperation(driver: "db") {
                gauge.enter()
                if pthread_equal(pthread_self(), me) != 0 { onWorker.mutate { $0 += 1 } }
                sleepMs(5)
                gauge.leave()
                return AsyncResult(rc: 1)
            }
            worker.start(op, mode: .offload) { result in
                #expect(result.rc == 1)
                done.value += 1
            }
        }
        try spin(reactor) { done.value == 30 }
        #expect(done.value == 30)
        #expect(gauge.peak.load(ordering: .relaxed) == 3, "never more than the limit at once")
        #expect(onWorker.value == 0)
        #expect(engine.pool.peakThreadCount <= 3)
        let s = try #require(engine.snapshot().driver("db"))
        #expect(s.completed == 30 && s.queued == 0 && s.offloadBusy == 0 && s.inFlight == 0)
    }

    @Test func fullQueueRejectsAtOnceWithoutSlowingOtherDrivers() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["slow": 1, "fast": 2], bounds: ["slow": 2, "fast": 8])
        let worker = engine.makeWorker(reactor: reactor)
        let release = Shared(false)
        let results = Box<[Int]>([])
        for _ in 0..<6 {
            let op = BlockingOperation(driver: "slow") {
                while !release.value { sleepMs(1) }
                return AsyncResult(rc: 1)
            }
            worker.start(op) { results.value.append($0.rc) }
        }
        // 1 running + 2 queued accepted; 3 rejected, delivered on the next loop step.
        try reactor.runOnce(timeoutMs: 0)
        #expect(results.value == [-4, -4, -4])
        let fastDone = Box(0)
        let start = System.monotonicNanoseconds()
        for _ in 0..<4 {
            worker.start(BlockingOperation(driver: "fast") { AsyncResult(rc: 7) }) { result in
                #expect(result.rc == 7)
                fastDone.value += 1
            }
        }
        try spin(reactor) { fastDone.value == 4 }
        #expect(fastDone.value == 4)
        #expect(System.monotonicNanoseconds() - start < 2_000_000_000, "fast lane not blocked by slow lane")
        release.mutate { $0 = true }
        try spin(reactor) { results.value.count == 6 }
        #expect(results.value.filter { $0 == 1 }.count == 3)
        let slow = try #require(engine.snapshot().driver("slow"))
        #expect(slow.rejected == 3 && slow.completed == 3 && slow.started == 6)
        #expect(engine.snapshot().offloadThreadsPeak <= 3, "threads ≤ sum of limits (1 + 2)")
    }

    @Test func laneOfTwoNeverRunsMoreThanTwoOfSixtyBlockingJobs() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["two": 2], bounds: ["two": 100])
        let worker = engine.makeWorker(reactor: reactor)
        let gauge = Gauge()
        let jobThreadsAtOnce = Shared<Set<UInt>>([])
        let mostJobThreadsAtOnce = Shared(0)
        let done = Box(0)
        for _ in 0..<60 {
            let op = BlockingOperation(driver: "two") {
                gauge.enter()
                let tid = pthread_self()
                let now = jobThreadsAtOnce.mutate { $0.insert(tid); return $0.count }
                mostJobThreadsAtOnce.mutate { $0 = max($0, now) }
                sleepMs(3)
                jobThreadsAtOnce.mutate { _ = $0.remove(tid) }
                gauge.leave()
                return AsyncResult(rc: 1)
            }
            worker.start(op, mode: .offload) { result in
                #expect(result.rc == 1)
                done.value += 1
            }
        }
        try spin(reactor, limitMs: 10_000) { done.value == 60 }
        #expect(done.value == 60)
        #expect(gauge.peak.load(ordering: .relaxed) == 2, "2 at once, never more")
        #expect(mostJobThreadsAtOnce.value <= 2, "never more than 2 threads in jobs at once")
        #expect(engine.pool.peakBusyCount <= 2 && engine.pool.peakThreadCount <= 2)
        let s = try #require(engine.snapshot().driver("two"))
        #expect(s.completed == 60 && s.queued == 0 && s.offloadBusy == 0 && s.rejected == 0)
    }

    /// The process-wide bound, counted in `/proc/self/task` of `offload-probe` (a process running nothing but
    /// one lane: this test process has the other tests' threads): a lane of limit 2 with 60 blocking jobs adds
    /// at most 2 + 3 threads (3 to spare for libdispatch's own threads; exactly 2 were added on the 2-CPU box).
    @Test func processThreadsStayWithinTheLimitPlusAFew() throws {
        let probe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("offload-probe")
        try #require(FileManager.default.isExecutableFile(atPath: probe.path),
                     "\(probe.path) missing: build it with swift build --build-tests")
        let process = Process()
        process.executableURL = probe
        process.arguments = ["2", "60", "10"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let line = String(decoding: data, as: UTF8.self)
        var figures: [String: Int] = [:]
        for pair in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let kv = pair.split(separator: "=")
            if kv.count == 2, let v = Int(kv[1]) { figures[String(kv[0])] = v }
        }
        let baseline = try #require(figures["baseline"], "probe printed: \(line)")
        let peak = try #require(figures["peak_threads"])
        #expect(figures["completed"] == 60, "\(line)")
        #expect(figures["peak_running"] == 2, "\(line)")
        #expect(peak <= baseline + 2 + 3, "threads while the jobs ran: \(line)")
    }

    @Test func poolThreadsNeverExceedSumOfLimits() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["a": 2, "b": 3, "c": 1])
        let worker = engine.makeWorker(reactor: reactor)
        let done = Box(0)
        for i in 0..<60 {
            let driver = ["a", "b", "c"][i % 3]
            worker.start(BlockingOperation(driver: driver) { sleepMs(2); return .success }) { _ in done.value += 1 }
        }
        try spin(reactor) { done.value == 60 }
        #expect(done.value == 60)
        #expect(engine.pool.peakThreadCount <= 6)
        #expect(engine.pool.peakBusyCount <= 6)
        #expect(engine.pool.maxThreads == 6)
        // Every slot is given back.
        let deadline = System.monotonicNanoseconds() + 3_000_000_000
        while engine.pool.threadCount > 0 && System.monotonicNanoseconds() < deadline { sleepMs(20) }
        #expect(engine.pool.threadCount == 0)
    }

    @Test func offloadTimeoutKeepsTheSlotUntilTheCallReturns() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["db": 1], bounds: ["db": 4])
        let worker = engine.makeWorker(reactor: reactor)
        let release = Shared(false)
        let ranSecond = Shared(false)
        let results = Box<[Int]>([])
        worker.start(BlockingOperation(driver: "db") {
            while !release.value { sleepMs(1) }
            return .success
        }, timeoutMs: 30) { results.value.append($0.rc) }
        // Queued behind the first one; it times out before it could run, so it never runs.
        worker.start(BlockingOperation(driver: "db") { ranSecond.mutate { $0 = true }; return .success },
                     timeoutMs: 30) { results.value.append($0.rc) }
        try spin(reactor) { results.value.count == 2 }
        #expect(results.value == [-3, -3])
        var s = try #require(engine.snapshot().driver("db"))
        #expect(s.offloadBusy == 1, "the timed-out job still holds its slot")
        #expect(s.queued == 0)
        release.mutate { $0 = true }
        try spin(reactor) { engine.snapshot().driver("db")?.lateDropped == 1 }
        s = try #require(engine.snapshot().driver("db"))
        #expect(s.lateDropped == 1 && s.offloadBusy == 0 && s.timedOut == 2 && s.completed == 0)
        sleepMs(20)
        #expect(!ranSecond.value, "an abandoned queued job never runs")
    }

    @Test func exactlyOnceUnderTimeoutRaces() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["race": 8], bounds: ["race": 1000])
        let worker = engine.makeWorker(reactor: reactor)
        let rounds = 40, perRound = 8
        let deliveries = Box([Int](repeating: 0, count: rounds * perRound))
        for round in 0..<rounds {
            // Jobs take 2-4 ms against a 3 ms timeout, all running at once: both outcomes happen,
            // often in the same loop iteration.
            for j in 0..<perRound {
                let i = round * perRound + j
                let op = BlockingOperation(driver: "race") { usleep(useconds_t(2000 + (i % 5) * 500)); return .success }
                worker.start(op, timeoutMs: 3) { _ in deliveries.value[i] += 1 }
            }
            try spin(reactor) { worker.activeJobCount == 0 }
        }
        try spin(reactor) { engine.snapshot().driver("race")!.offloadBusy == 0 }
        try spin(reactor, limitMs: 50) { false }  // let late completions drain
        #expect(deliveries.value.allSatisfy { $0 == 1 }, "every job resolved exactly once")
        let s = try #require(engine.snapshot().driver("race"))
        #expect(s.completed + s.timedOut == rounds * perRound)
        // Every timed-out job either never ran (abandoned in the queue) or its late result was dropped.
        #expect(s.lateDropped <= s.timedOut)
        #expect(s.inFlight == 0 && s.queued == 0)
    }

    @Test func completionsFromPoolWakeASleepingWorker() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["db": 2])
        let got = Shared<Int?>(nil)
        let thread = try WorkerThread(name: "async-w1") {
            let worker = engine.makeWorker(reactor: reactor)
            worker.start(BlockingOperation(driver: "db") { sleepMs(20); return AsyncResult(rc: 3) }) { result in
                got.mutate { $0 = result.rc }
                reactor.stop()
            }
            try! reactor.run()  // blocks in epoll_wait until the eventfd wakes it
        }
        thread.join()
        #expect(got.value == 3)
    }

    @Test func offloadAndSyncSleep() throws {
        let reactor = try Reactor()
        let engine = engine(limits: ["usleep": 2])
        let worker = engine.makeWorker(reactor: reactor)
        let results = Box<[Int]>([])
        worker.start(SleepOperation(microseconds: 2000), mode: .offload) { results.value.append($0.rc) }
        worker.start(SleepOperation(microseconds: 2000), mode: .sync) { results.value.append($0.rc) }
        try spin(reactor) { results.value.count == 2 }
        #expect(results.value == [1, 1])
    }
}
