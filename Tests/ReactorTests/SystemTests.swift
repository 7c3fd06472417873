import Glibc
import Testing
@testable import Reactor
import TandemTestSupport

private func noopSignalHandler(_: Int32) {}

@Suite struct SystemTests {
    @Test func retryMapsErrnoValues() throws {
        var calls = 0
        let retried = try System.retryingIO("fake") { () -> Int in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 7
        }
        #expect(retried == .processed(7))
        #expect(calls == 3, "EINTR retried")

        let blocked = try System.retryingIO("fake") { () -> Int in errno = EAGAIN; return -1 }
        #expect(blocked == .wouldBlock)
        let blocked2 = try System.retryingIO("fake") { () -> Int in errno = EWOULDBLOCK; return -1 }
        #expect(blocked2 == .wouldBlock)

        let error = #expect(throws: IOError.self) {
            _ = try System.retryingIO("fake") { () -> Int in errno = EBADF; return -1 }
        }
        #expect(error == IOError(errno: EBADF, function: "fake"))
        #expect(error?.description == "fake: Bad file descriptor (errno 9)")

        // Calls that must not "would block" report EAGAIN as an error.
        #expect(throws: IOError.self) {
            _ = try System.retrying("fake") { () -> Int32 in errno = EAGAIN; return -1 }
        }
    }

    @Test func realSyscallErrors() throws {
        let error = #expect(throws: IOError.self) { try System.close(-1) }
        #expect(error?.errno == EBADF)
        #expect(error?.function == "close")
        var buffer = [UInt8](repeating: 0, count: 4)
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        #expect(try buffer.withUnsafeMutableBytes { try System.read(r, into: $0) } == .wouldBlock, "empty nonblocking pipe")
        try System.close(w)
        #expect(try buffer.withUnsafeMutableBytes { try System.read(r, into: $0) } == .processed(0), "EOF")
    }

    @Test func eventFDCounter() throws {
        let fd = try System.eventFD()
        defer { try? System.close(fd) }
        #expect(try System.eventFDRead(fd).isWouldBlock)
        _ = try System.eventFDWrite(fd, 2)
        _ = try System.eventFDWrite(fd, 3)
        #expect(try System.eventFDRead(fd) == .processed(5))
        #expect(try System.eventFDRead(fd).isWouldBlock)
    }

    @Test func monotonicClockAdvances() {
        let a = System.monotonicNanoseconds()
        let b = System.monotonicNanoseconds()
        #expect(b >= a)
        #expect(a > 0)
    }

    @Test func signalInterruptingEpollWaitIsNotAnError() throws {
        // A handler without SA_RESTART makes epoll_wait fail with EINTR; the reactor treats it as an
        // empty iteration.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = noopSignalHandler
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR2, &action, nil)

        let reactor = try Reactor()
        let outcome = Shared<String?>(nil)
        let threadID = Shared<pthread_t?>(nil)
        let loop = try WorkerThread(name: "eintr") {
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)  // the test runner's threads may block it
            threadID.mutate { $0 = pthread_self() }
            let start = System.monotonicNanoseconds()
            do {
                let work = try reactor.runOnce(timeoutMs: 3000)
                let ms = (System.monotonicNanoseconds() - start) / 1_000_000
                outcome.mutate { $0 = "returned \(work) after \(ms < 2000 ? "short" : "long") wait" }
            } catch {
                outcome.mutate { $0 = "threw \(error)" }
            }
        }
        var waited = 0
        while !reactor.isSleeping && waited < 2000 { usleep(1000); waited += 1 }
        // Keep signalling until the wait returns (a signal landing just before epoll_wait is missed).
        var attempts = 0
        while outcome.value == nil && attempts < 200 {
            if let thread = threadID.value { pthread_kill(thread, SIGUSR2) }
            usleep(5000)
            attempts += 1
        }
        loop.join()
        #expect(outcome.value == "returned 0 after short wait")
    }
}
