import Glibc
import Testing
@testable import Reactor
import TandemTestSupport

@Suite struct WorkerThreadTests {
    @Test func namedJoinableThread() throws {
        let seen = Shared<(name: String, isCurrent: Bool)?>(nil)
        let holder = Shared<WorkerThread?>(nil)
        let started = Shared(false)
        let thread = try WorkerThread(name: "a-very-long-worker-name") {
            while !started.value { usleep(100) }
            seen.mutate { $0 = (WorkerThread.currentName, holder.value?.isCurrent ?? false) }
        }
        holder.mutate { $0 = thread }
        started.mutate { $0 = true }
        thread.join()
        thread.join()  // idempotent
        #expect(seen.value?.name == "a-very-long-wor", "kernel limit: 15 bytes")
        #expect(seen.value?.isCurrent == true)
        #expect(!thread.isCurrent)
        holder.mutate { $0 = nil }
    }

    @Test func unjoinedThreadIsDetached() throws {
        let done = Shared(false)
        _ = try WorkerThread(name: "detached") { done.mutate { $0 = true } }
        var waited = 0
        while !done.value && waited < 2000 { usleep(1000); waited += 1 }
        #expect(done.value)
    }
}

@Suite struct ReactorEdgeCaseTests {
    @Test func deregisterAfterDescriptorClosedIsTolerated() throws {
        let reactor = try Reactor()
        let (r, w) = try System.pipe()
        let id = try reactor.register(fd: r, interest: .read) { _ in }
        try System.close(r)
        try System.close(w)
        #expect(reactor.deregister(id))
        #expect(reactor.registrationCount == 0)
    }

    @Test func registeringTwiceFails() throws {
        let reactor = try Reactor()
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        _ = try reactor.register(fd: r, interest: .read) { _ in }
        let error = #expect(throws: IOError.self) { _ = try reactor.register(fd: r, interest: .read) { _ in } }
        #expect(error?.errno == EEXIST)
        #expect(reactor.registrationCount == 1)
    }

    @Test func orderWithinIterationIsEventsTimersTasks() throws {
        let clock = ManualClock()
        let reactor = try Reactor(clock: clock)
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        let order = Shared<[String]>([])
        let id = try reactor.register(fd: r, interest: .read) { _ in order.mutate { $0.append("fd") } }
        reactor.schedule(afterMilliseconds: 1) { order.mutate { $0.append("timer") } }
        reactor.execute { order.mutate { $0.append("task") } }
        try writeBytes(w, [1])
        clock.advance(byMilliseconds: 1)
        #expect(try reactor.runOnce(timeoutMs: 0) == 3)
        #expect(order.value == ["fd", "timer", "task"])
        reactor.deregister(id)
    }

    @Test func taskEnqueuedByTaskRunsNextIteration() throws {
        let reactor = try Reactor()
        let count = Shared(0)
        reactor.execute {
            count.mutate { $0 += 1 }
            reactor.execute { count.mutate { $0 += 1 } }
        }
        try reactor.runOnce(timeoutMs: 0)
        #expect(count.value == 1)
        try reactor.runOnce(timeoutMs: -1)  // does not block: a task is pending
        #expect(count.value == 2)
    }
}
