import Glibc
import Reactor
import Testing
@testable import TandemAsync
import TandemTestSupport

@Suite struct DeliveryTests {
    @Test func sleepEndingExactlyAtTheTimeoutResolvesOnce() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let calls = Box([Int](repeating: 0, count: 1000))
        let rcs = Box<[Int]>([])
        for i in 0..<1000 {
            worker.start(SleepOperation(microseconds: 10_000), timeoutMs: 10) { result in
                calls.value[i] += 1
                rcs.value.append(result.rc)
            }
        }
        clock.advance(byMilliseconds: 10)
        for _ in 0..<3 { try reactor.runOnce(timeoutMs: 0) }
        #expect(calls.value.allSatisfy { $0 == 1 })
        // Same deadline: the timeout timer was armed first, so it wins and the sleep timer is cancelled.
        #expect(Set(rcs.value) == [-3])
        let s = try #require(engine.snapshot().driver("usleep"))
        #expect(s.timedOut == 1000 && s.completed == 0 && s.lateDropped == 0 && s.inFlight == 0)
        #expect(reactor.timerCount == 0)
    }

    @Test func completionsReachTheOwningWorker() throws {
        let engine = AsyncEngine(configuration: AsyncEngineConfiguration(
            offload: OffloadPool.Configuration(limits: OffloadLimits(["job": 4]))))
        let wrongThread = Shared(0)
        let delivered = Shared(0)
        var threads: [WorkerThread] = []
        for w in 0..<2 {
            let reactor = try Reactor()
            threads.append(try WorkerThread(name: "async-w\(w)") {
                let worker = engine.makeWorker(reactor: reactor)
                let me = pthread_self()
                let remaining = Box(200)
                for i in 0..<200 {
                    worker.start(BlockingOperation(driver: "job") { usleep(useconds_t(100 * (i % 5))); return .success }) { result in
                        if pthread_equal(pthread_self(), me) == 0 { wrongThread.mutate { $0 += 1 } }
                        if result.rc == 1 { delivered.mutate { $0 += 1 } }
                        remaining.value -= 1
                        if remaining.value == 0 { reactor.stop() }
                    }
                }
                try! reactor.run()
            })
        }
        for thread in threads { thread.join() }
        #expect(delivered.value == 400)
        #expect(wrongThread.value == 0, "every completion ran on the worker that started the job")
        #expect(engine.pool.peakThreadCount <= 4)
    }

    @Test func unknownJobCancelAndForeignWorkerId() throws {
        let reactor = try Reactor(clock: ManualClock())
        let engine = AsyncEngine()
        let w0 = engine.makeWorker(reactor: reactor)
        let w1 = engine.makeWorker(reactor: reactor)
        let id = w0.start(SleepOperation(seconds: 1)) { _ in }
        #expect(!w1.cancel(id), "a worker only cancels its own jobs")
        #expect(w0.cancel(id))
        #expect(!w0.cancel(AsyncJobID(worker: w0.index, sequence: 999)))
    }

    /// A job's timers kept by its context (the first inline, more in a list that drops fired ones): a
    /// job that re-arms its timer many times and holds a long one beside it leaves no timer behind when
    /// it is cancelled, and the cancelled ones never fire.
    @Test func timersOfAJobAreAllCancelledWhenItEnds() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let operation = ManualOperation()
        let rcs = Box<[Int]>([])
        let id = worker.start(operation, timeoutMs: 60_000) { rcs.value.append($0.rc) }
        let context = try #require(operation.context)
        let fired = Box(0)
        let lateFired = Box(0)
        context.schedule(afterMilliseconds: 50_000) { lateFired.value += 1 }
        func rearm(_ left: Int) {
            context.schedule(afterMilliseconds: 10) {
                fired.value += 1
                if left > 0 { rearm(left - 1) }
            }
        }
        rearm(19)
        for _ in 0..<20 {
            clock.advance(byMilliseconds: 10)
            try reactor.runOnce(timeoutMs: 0)
        }
        #expect(fired.value == 20)
        // The long timer, the job's timeout: nothing else is pending.
        #expect(reactor.timerCount == 2)
        #expect(worker.cancel(id))
        #expect(rcs.value == [-1])
        #expect(reactor.timerCount == 0)
        clock.advance(byMilliseconds: 60_000)
        try reactor.runOnce(timeoutMs: 0)
        #expect(lateFired.value == 0)
    }

    @Test func cancelAllResolvesEverything() throws {
        let reactor = try Reactor(clock: ManualClock())
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let rcs = Box<[Int]>([])
        for _ in 0..<10 { worker.start(SleepOperation(seconds: 100)) { rcs.value.append($0.rc) } }
        worker.cancelAll()
        #expect(rcs.value == Array(repeating: -1, count: 10))
        #expect(worker.activeJobCount == 0 && reactor.timerCount == 0)
    }
}
