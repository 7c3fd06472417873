import Glibc
import Reactor
import Testing
@testable import TandemAsync
import TandemTestSupport

@Suite struct SleepAndEngineTests {
    @Test func sleepsCompleteInDeadlineOrder() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let order = Box<[Int]>([])
        for ms in [30, 10, 20] {
            worker.start(SleepOperation(microseconds: UInt64(ms) * 1000)) { result in
                #expect(result.rc == 1)
                order.value.append(ms)
            }
        }
        try reactor.runOnce(timeoutMs: 0)
        #expect(order.value.isEmpty)
        clock.advance(byMilliseconds: 10)
        try reactor.runOnce(timeoutMs: 0)  // timer fires, completion posted
        try reactor.runOnce(timeoutMs: 0)  // completion delivered
        #expect(order.value == [10])
        clock.advance(byMilliseconds: 20)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        #expect(order.value == [10, 20, 30])
        #expect(worker.activeJobCount == 0)
        #expect(reactor.timerCount == 0, "timeout timers are cancelled on completion")
        let usleep = try #require(engine.snapshot().driver("usleep"))
        #expect(usleep.started == 3 && usleep.completed == 3 && usleep.inFlight == 0)
        #expect(usleep.latencyHistogram.reduce(0, +) == 3)
    }

    @Test func tenThousandConcurrentSleeps() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let done = Box(0)
        for i in 0..<10_000 {
            worker.start(SleepOperation(microseconds: UInt64(1 + i % 50) * 1000)) { _ in done.value += 1 }
        }
        #expect(worker.activeJobCount == 10_000)
        #expect(reactor.registrationCount == 0, "native sleep uses no descriptor")
        clock.advance(byMilliseconds: 60)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        #expect(done.value == 10_000)
        #expect(worker.activeJobCount == 0)
        #expect(reactor.timerCount == 0)
        let s = try #require(engine.snapshot().driver("usleep"))
        #expect(s.completed == 10_000 && s.inFlight == 0 && s.lateDropped == 0)
    }

    @Test func timeoutGivesMinus3AndCancelsTheOperation() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let op = ManualOperation()
        let results = Box<[AsyncResult]>([])
        worker.start(op, timeoutMs: 100) { results.value.append($0) }
        let context = try #require(op.context)
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        _ = try context.register(fd: r, interest: .read) { _ in }
        context.schedule(afterMilliseconds: 10_000) {}
        #expect(reactor.registrationCount == 1)
        clock.advance(byMilliseconds: 100)
        try reactor.runOnce(timeoutMs: 0)
        #expect(results.value.map(\.rc) == [-3])
        #expect(results.value.first?.status == .timedOut)
        #expect(op.cancelCount == 1)
        #expect(reactor.registrationCount == 0, "the engine deregistered the driver's fd")
        #expect(reactor.timerCount == 0, "and cancelled its timers")
        // The driver completes late: dropped and counted.
        context.complete(.success)
        try reactor.runOnce(timeoutMs: 0)
        #expect(results.value.count == 1)
        let s = try #require(engine.snapshot().driver("manual"))
        #expect(s.timedOut == 1 && s.completed == 0 && s.lateDropped == 1 && s.inFlight == 0)
    }

    @Test func defaultTimeoutApplies() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine(configuration: AsyncEngineConfiguration(defaultTimeoutMs: 500))
        let worker = engine.makeWorker(reactor: reactor)
        let rc = Box<Int?>(nil)
        worker.start(ManualOperation()) { rc.value = $0.rc }
        clock.advance(byMilliseconds: 499)
        try reactor.runOnce(timeoutMs: 0)
        #expect(rc.value == nil)
        clock.advance(byMilliseconds: 1)
        try reactor.runOnce(timeoutMs: 0)
        #expect(rc.value == -3)
    }

    @Test func completionNeverRunsInsideStart() throws {
        let reactor = try Reactor(clock: ManualClock())
        let worker = AsyncEngine().makeWorker(reactor: reactor)
        let op = ManualOperation()
        op.completeInStart = AsyncResult(rc: 5, outputs: [AsyncOutput("n", .int(5))])
        let got = Box<AsyncResult?>(nil)
        let id = worker.start(op) { got.value = $0 }
        #expect(got.value == nil, "start returned before the completion ran")
        #expect(worker.isActive(id))
        try reactor.runOnce(timeoutMs: 0)
        #expect(got.value?.rc == 5)
        #expect(got.value?.output("n") == .int(5))
        #expect(op.cancelCount == 0)
    }

    @Test func explicitCancelDeliversMinus1Once() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let op = SleepOperation(seconds: 5)
        let results = Box<[AsyncResult]>([])
        let id = worker.start(op, timeoutMs: 10_000) { results.value.append($0) }
        #expect(worker.cancel(id))
        #expect(results.value.count == 1, "delivered inside cancel()")
        #expect(results.value[0].rc == -1 && results.value[0].isCancelled)
        #expect(!worker.cancel(id), "second cancel is a no-op")
        #expect(reactor.timerCount == 0)
        clock.advance(by: .seconds(20))
        try reactor.runOnce(timeoutMs: 0)
        #expect(results.value.count == 1)
        #expect(engine.snapshot().driver("sleep")?.cancelled == 1)
    }

    @Test func completionRacingTimeoutIsDeliveredOnce() throws {
        // The driver completes (posted) and the timeout fires in the same loop iteration: timers run
        // before queued tasks, so the timeout wins and the completion is dropped as late.
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let op = ManualOperation()
        let results = Box<[Int]>([])
        worker.start(op, timeoutMs: 50) { results.value.append($0.rc) }
        op.context?.complete(.success)
        clock.advance(byMilliseconds: 50)
        try reactor.runOnce(timeoutMs: 0)
        try reactor.runOnce(timeoutMs: 0)
        #expect(results.value == [-3])
        #expect(op.cancelCount == 1)
        let s = try #require(engine.snapshot().driver("manual"))
        #expect(s.timedOut == 1 && s.lateDropped == 1)
    }

    @Test func syncModeRunsInline() throws {
        let reactor = try Reactor()
        let engine = AsyncEngine(configuration: AsyncEngineConfiguration(modes: ["usleep": .sync]))
        let worker = engine.makeWorker(reactor: reactor)
        let me = pthread_self()
        let ranOn = Shared<Bool?>(nil)
        let op = BlockingOperation(driver: "probe") {
            ranOn.mutate { $0 = pthread_equal(pthread_self(), me) != 0 }
            return AsyncResult(rc: 2)
        }
        let rc = Box<Int?>(nil)
        worker.start(op, mode: .sync) { rc.value = $0.rc }
        #expect(ranOn.value == true, "ran on the calling (worker) thread before start returned")
        #expect(rc.value == nil)
        try reactor.runOnce(timeoutMs: 0)
        #expect(rc.value == 2)
        // The configured mode applies when none is given.
        let start = System.monotonicNanoseconds()
        worker.start(SleepOperation(microseconds: 20_000)) { rc.value = $0.rc }
        #expect(System.monotonicNanoseconds() - start >= 20_000_000)
        #expect(engine.pool.threadCount == 0)
    }

    @Test func modeFallsBackToASupportedPath() {
        let engine = AsyncEngine(configuration: AsyncEngineConfiguration(modes: ["manual": .offload]))
        #expect(engine.resolveMode(nil, driver: "manual", supported: .native) == .native)
        #expect(engine.resolveMode(.native, driver: "x", supported: .blocking) == .offload)
        #expect(engine.resolveMode(.sync, driver: "x", supported: .all) == .sync)
        #expect(engine.resolveMode(nil, driver: "x", supported: .all) == .native)
        #expect(engine.resolveMode(nil, driver: "x", supported: []) == nil)
    }

    @Test func workerThreadWithRealReactor() throws {
        // The proxy's shape: a worker thread runs the reactor; jobs start and complete on it.
        let reactor = try Reactor()
        let engine = AsyncEngine()
        let done = Shared(0)
        let thread = try WorkerThread(name: "async-w0") {
            let worker = engine.makeWorker(reactor: reactor)
            for i in 0..<100 {
                worker.start(SleepOperation(microseconds: UInt64(i % 10) * 1000)) { result in
                    if result.rc == 1 && done.mutate({ $0 += 1; return $0 }) == 100 { reactor.stop() }
                }
            }
            try! reactor.run()
        }
        thread.join()
        #expect(done.value == 100)
    }

    /// A native sleep shorter than its timeout ends first by construction: the engine arms no timeout
    /// timer for it (one reactor timer per suspended call, issue 19). A sleep as long as the timeout or
    /// longer keeps the timeout timer and gives rc -3.
    @Test func sleepShorterThanTheTimeoutNeedsNoTimeoutTimer() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let rcs = Box<[Int]>([])
        worker.start(SleepOperation(microseconds: 99_999), timeoutMs: 100) { rcs.value.append($0.rc) }
        #expect(reactor.timerCount == 1, "the sleep's own timer only")
        worker.start(SleepOperation(microseconds: 100_000), timeoutMs: 100) { rcs.value.append($0.rc) }
        #expect(reactor.timerCount == 3, "a sleep as long as the timeout keeps the timeout timer")
        clock.advance(byMilliseconds: 100)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        #expect(rcs.value.sorted() == [-3, 1])
        #expect(worker.activeJobCount == 0 && reactor.timerCount == 0)
        #expect(!AsyncWorker.completesBefore(ManualOperation(), timeoutMs: 100))
        #expect(AsyncWorker.completesBefore(SleepOperation(seconds: 1), timeoutMs: UInt64.max))
    }

}

/// Jobs that end in a handler object rather than a closure, and a native sleep the engine does not keep
/// (issue 19: memory per suspended transaction).
@Suite struct CompletionHandlerTests {
    final class Recorder: AsyncCompletionHandler {
        var results: [AsyncResult] = []
        func asyncJobEnded(_ result: AsyncResult) { results.append(result) }
    }

    @Test func handlerRunsOnceWithTheOutcome() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let done = Recorder()
        let cancelled = Recorder()
        worker.start(SleepOperation(microseconds: 5_000), handler: done)
        let id = worker.start(SleepOperation(microseconds: 5_000), handler: cancelled)
        #expect(done.results.isEmpty, "never inside start")
        #expect(worker.cancel(id))
        #expect(cancelled.results.map(\.rc) == [-1])
        clock.advance(byMilliseconds: 5)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        #expect(done.results.map(\.rc) == [1])
        #expect(cancelled.results.count == 1)
        #expect(worker.activeJobCount == 0)
        #expect(reactor.timerCount == 0, "the cancelled sleep's timer went with its job")
    }

    @Test func runningSleepIsNotRetained() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        weak var weakSleep: SleepOperation?
        let done = Recorder()
        do {
            let sleep = SleepOperation(microseconds: 1_000)
            weakSleep = sleep
            worker.start(sleep, handler: done)
        }
        #expect(weakSleep == nil, "a running sleep holds nothing the engine must keep")
        #expect(worker.activeJobCount == 1)
        clock.advance(byMilliseconds: 1)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        #expect(done.results.map(\.rc) == [1])
    }
}
