import Glibc
import Testing
@testable import Reactor
import TandemTestSupport

@Suite struct ReactorCrossThreadTests {
    @Test func executeFromAnotherThread() throws {
        let reactor = try Reactor()
        let ran = Shared(0)
        let offLoop = Shared(0)
        let me = pthread_self()
        let worker = try WorkerThread(name: "exec-test") {
            for _ in 0..<1000 {
                reactor.execute {
                    ran.mutate { $0 += 1 }
                    if pthread_equal(pthread_self(), me) == 0 { offLoop.mutate { $0 += 1 } }
                }
            }
        }
        worker.join()
        #expect(ran.value == 0, "nothing runs before the loop does")
        try reactor.runOnce(timeoutMs: 1000)
        #expect(ran.value == 1000, "one iteration drains the whole queue")
        #expect(offLoop.value == 0, "tasks run on the loop thread")
    }

    @Test func tasksEnqueuedWhileAwakeNeedNoEventFDWrite() throws {
        let reactor = try Reactor()
        let ran = Shared(0)
        for _ in 0..<100 { reactor.execute { ran.mutate { $0 += 1 } } }
        #expect(reactor.wakeupWriteCount == 0, "loop not sleeping: no syscall needed")
        let start = System.monotonicNanoseconds()
        try reactor.runOnce(timeoutMs: -1)  // must not block: tasks are pending
        #expect(System.monotonicNanoseconds() - start < 500_000_000)
        #expect(ran.value == 100)
    }

    @Test func wakeupsAreCoalescedWhileSleeping() throws {
        let reactor = try Reactor()
        let returned = Shared(false)
        let loop = try WorkerThread(name: "coalesce") {
            try! reactor.runOnce(timeoutMs: 5000)
            returned.mutate { $0 = true }
        }
        // Wait (bounded) until the loop announced its blocking wait.
        var waited = 0
        while !reactor.isSleeping && waited < 2000 { usleep(1000); waited += 1 }
        #expect(reactor.isSleeping)
        for _ in 0..<100 { reactor.wakeup() }
        for _ in 0..<100 { reactor.execute {} }
        loop.join()
        #expect(returned.value)
        #expect(reactor.wakeupWriteCount == 1, "100 wake-ups + 100 tasks -> one eventfd write")
    }

    @Test func runUntilStoppedFromAnotherThread() throws {
        let reactor = try Reactor()
        let handle = reactor.handle
        let sum = Shared(0)
        let started = Shared(false)
        let loop = try WorkerThread(name: "tandem-w0") {
            #expect(WorkerThread.currentName == "tandem-w0")
            started.mutate { $0 = true }
            try! reactor.run()
        }
        for i in 1...100 {
            handle.execute { sum.mutate { $0 += i } }
            if i % 10 == 0 { usleep(100) }
        }
        // A task that reads loop state must run on the loop thread after the others.
        let done = Shared(false)
        handle.execute { done.mutate { $0 = true } }
        var waited = 0
        while !done.value && waited < 2000 { usleep(1000); waited += 1 }
        handle.stop()
        loop.join()
        #expect(started.value)
        #expect(sum.value == 5050)
    }

    @Test func stopFromCallbackAndRunAgain() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        reactor.execute { reactor.stop() }
        try reactor.run()  // returns after the stop
        let ran = Shared(false)
        reactor.execute { ran.mutate { $0 = true }; reactor.stop() }
        try reactor.run()
        #expect(ran.value)
    }

    @Test func handleOutlivesReactor() throws {
        var reactor: Reactor? = try Reactor()
        let handle = reactor!.handle
        reactor = nil
        #expect(!handle.execute {}, "closed reactor refuses tasks")
        handle.wakeup()  // harmless
        handle.stop()
    }

    @Test func workerThreadsRunIndependentReactors() throws {
        let count = 3
        let totals = Shared([Int](repeating: 0, count: count))
        var reactors: [Reactor] = []
        var threads: [WorkerThread] = []
        for w in 0..<count {
            let reactor = try Reactor()
            reactors.append(reactor)
            threads.append(try WorkerThread(name: "worker-\(w)") {
                reactor.schedule(afterMilliseconds: 1) { totals.mutate { $0[w] += 1 } }
                try! reactor.run()
            })
        }
        for (w, reactor) in reactors.enumerated() {
            reactor.execute { totals.mutate { $0[w] += 10 } }
        }
        var waited = 0
        while totals.value != [Int](repeating: 11, count: count) && waited < 2000 { usleep(1000); waited += 1 }
        for reactor in reactors { reactor.stop() }
        for thread in threads { thread.join() }
        #expect(totals.value == [11, 11, 11])
    }
}
