import Foundation
import Glibc
import Reactor
import Testing
@testable import TandemAsync
import TandemTestSupport

@Suite struct ExecTests {
    private func run(_ op: ExecOperation, mode: AsyncMode = .native, timeoutMs: UInt64 = 5000) throws -> (AsyncResult, AsyncEngine, Reactor) {
        let reactor = try Reactor()
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let got = Box<AsyncResult?>(nil)
        worker.start(op, mode: mode, timeoutMs: timeoutMs) { got.value = $0 }
        try spin(reactor, limitMs: 10_000) { got.value != nil }
        return (try #require(got.value), engine, reactor)
    }

    @Test func capturesStdoutStderrAndStatus() throws {
        let (result, _, reactor) = try run(ExecOperation(command: "echo out; echo err >&2; exit 0"))
        #expect(result.rc == 1)
        #expect(result.output("stdout") == .string("out\n"))
        #expect(result.output("stderr") == .string("err\n"))
        #expect(result.output("status") == .int(0))
        #expect(reactor.registrationCount == 0, "pipes and pidfd deregistered")
    }

    @Test func nonZeroExitAndCommandNotFound() throws {
        let (failed, _, _) = try run(ExecOperation(command: "exit 3"))
        #expect(failed.rc == -1)
        #expect(failed.output("status") == .int(3))
        let (missing, _, _) = try run(ExecOperation(command: "/nonexistent/tandem-no-such-command"))
        #expect(missing.rc == -1)
        #expect(missing.output("status") == .int(127))
        #expect(missing.output("stderr")?.stringValue?.isEmpty == false)
    }

    @Test func largeStdoutDoesNotDeadlock() throws {
        // 1 MiB on stdout and 256 KiB on stderr, far beyond the 64 KiB pipe buffers.
        let (result, _, _) = try run(ExecOperation(command: "head -c 1048576 /dev/zero | tr '\\0' a; head -c 262144 /dev/zero | tr '\\0' b >&2"))
        #expect(result.rc == 1)
        #expect(result.output("stdout")?.stringValue?.utf8.count == 1_048_576)
        #expect(result.output("stderr")?.stringValue?.utf8.count == 262_144)
    }

    @Test func stdinIsDelivered() throws {
        let input = String(repeating: "line of input\n", count: 20_000)  // 280 KB: needs several writes
        let (result, _, _) = try run(ExecOperation(command: "wc -c", stdin: input))
        #expect(result.rc == 1)
        #expect(result.output("stdout")?.stringValue?.trimmingSpaces == "\(input.utf8.count)")
        let (ignored, _, _) = try run(ExecOperation(command: "exit 0", stdin: input))
        #expect(ignored.rc == 1, "a child that ignores stdin does not break (no SIGPIPE)")
    }

    @Test("the child gets stdin, stdout and stderr only, not descriptors the process left inheritable")
    func childInheritsOnlyStandardDescriptors() throws {
        // A descriptor without O_CLOEXEC, as a C library's socket may be.
        let leaky = open("/dev/null", O_RDONLY)
        try #require(leaky > 2)
        defer { close(leaky) }
        let (result, _, _) = try run(ExecOperation(command: "ls /proc/$$/fd"))
        #expect(result.rc == 1)
        let descriptors = (result.output("stdout")?.stringValue ?? "").split(separator: "\n").map(String.init)
        #expect(descriptors == ["0", "1", "2"])
    }

    @Test func environmentIsReplacedWhenGiven() throws {
        let (result, _, _) = try run(ExecOperation(command: "echo $TANDEM_X", environment: ["TANDEM_X=42", "PATH=/usr/bin:/bin"]))
        #expect(result.output("stdout") == .string("42\n"))
    }

    @Test func timeoutKillsTheChildAndLeavesNoZombie() throws {
        let reactor = try Reactor()
        let engine = AsyncEngine()
        let worker = engine.makeWorker(reactor: reactor)
        let op = ExecOperation(command: "echo $$; exec sleep 30")
        let got = Box<AsyncResult?>(nil)
        let start = System.monotonicNanoseconds()
        worker.start(op, timeoutMs: 300) { got.value = $0 }
        try spin(reactor) { got.value != nil }
        #expect(got.value?.rc == -3)
        #expect(System.monotonicNanoseconds() - start < 3_000_000_000)
        let pid = try #require(op.childPID)
        // The reaper runs on the reactor: give it a few iterations.
        try spin(reactor, limitMs: 2000) { !processExists(pid) }
        #expect(!processExists(pid), "killed and reaped (no zombie)")
        #expect(reactor.registrationCount == 0)
        #expect(engine.snapshot().driver("exec")?.timedOut == 1)
    }

    @Test func cancelKillsTheProcessGroup() throws {
        let reactor = try Reactor()
        let worker = AsyncEngine().makeWorker(reactor: reactor)
        // The shell forks a background grandchild in the same group, then waits.
        let op = ExecOperation(command: "sleep 30 & echo $!; wait")
        let got = Box<AsyncResult?>(nil)
        let id = worker.start(op) { got.value = $0 }
        let shell = try #require(op.childPID)
        try spin(reactor, limitMs: 2000) { liveGroupMembers(shell).count >= 2 }
        #expect(liveGroupMembers(shell).count >= 2, "shell and its background sleep are running")
        #expect(worker.cancel(id))
        #expect(got.value?.isCancelled == true)
        let pid = try #require(op.childPID)
        try spin(reactor, limitMs: 2000) { !processExists(pid) && liveGroupMembers(pid).isEmpty }
        #expect(!processExists(pid))
        #expect(liveGroupMembers(pid).isEmpty, "the background grandchild was killed with the group")
        #expect(reactor.registrationCount == 0)
    }

    @Test func waitpidFallbackWithoutPidfd() throws {
        let op = ExecOperation(command: "printf abc; exit 4")
        op.usePidfd = false
        let (result, _, reactor) = try run(op)
        #expect(result.rc == -1)
        #expect(result.output("stdout") == .string("abc"))
        #expect(result.output("status") == .int(4))
        #expect(reactor.timerCount == 0, "poll timer and timeout timer are gone")
        let pid = try #require(op.childPID)
        #expect(!processExists(pid))
    }

    @Test func offloadAndSyncForms() throws {
        for mode in [AsyncMode.offload, .sync] {
            let (ok, _, _) = try run(ExecOperation(command: "cat; echo done >&2", stdin: "hello"), mode: mode)
            #expect(ok.rc == 1)
            #expect(ok.output("stdout") == .string("hello"))
            #expect(ok.output("stderr") == .string("done\n"))
            let (big, _, _) = try run(ExecOperation(command: "head -c 1048576 /dev/zero"), mode: mode)
            #expect(big.output("stdout")?.stringValue?.utf8.count == 1_048_576)
            let (bad, _, _) = try run(ExecOperation(command: "exit 2"), mode: mode)
            #expect(bad.rc == -1 && bad.output("status") == .int(2))
        }
        // The blocking form kills the child at its own deadline.
        let start = System.monotonicNanoseconds()
        let result = ExecOperation.runBlocking(command: "sleep 30", stdin: nil, environment: nil, timeoutMs: 200, limit: 1024)
        #expect(result.rc == -3)
        #expect(System.monotonicNanoseconds() - start < 3_000_000_000)
    }

    @Test func manyConcurrentExecs() throws {
        let reactor = try Reactor()
        let worker = AsyncEngine().makeWorker(reactor: reactor)
        let outputs = Box<[String]>([])
        for i in 0..<50 {
            worker.start(ExecOperation(command: "echo \(i)")) { outputs.value.append($0.output("stdout")?.stringValue ?? "?") }
        }
        try spin(reactor, limitMs: 10_000) { outputs.value.count == 50 }
        #expect(Set(outputs.value) == Set((0..<50).map { "\($0)\n" }))
        #expect(reactor.registrationCount == 0)
    }
}

/// Pids in process group `pgid` that are not zombies (from /proc/<pid>/stat).
func liveGroupMembers(_ pgid: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var members: [Int32] = []
    for entry in entries {
        guard let pid = Int32(entry),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] = state, fields[1] = ppid, fields[2] = pgrp
        if fields.count > 2, Int32(fields[2]) == pgid, fields[0] != "Z" { members.append(pid) }
    }
    return members
}

extension String {
    var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\n" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
}
