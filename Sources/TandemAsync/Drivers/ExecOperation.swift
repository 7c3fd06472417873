import Glibc
import Reactor

/// `exec(command[, stdin])`: runs `/bin/sh -c command` (spawned with `posix_spawn`, in its own process
/// group). Native form: stdin is written and stdout/stderr are read through the worker's reactor, and
/// the exit is watched with a pidfd (polling `waitpid(WNOHANG)` on a timer where pidfd is missing).
/// On timeout/cancel the process group is SIGKILLed and the child is reaped in the background.
/// Blocking form (offload/sync): the same with `poll(2)`, killing the child at `timeoutMs`.
///
/// Result: rc 1 if the exit status is 0, -1 otherwise (also when spawning fails; 127 = not found);
/// outputs `"stdout"`, `"stderr"` (strings), `"status"` (exit code, 128+signal if killed).
public final class ExecOperation: AsyncOperation {
    public let driver = "exec"
    public let supportedPaths: AsyncPaths = .all
    /// The shell command.
    public let command: String
    /// Bytes for the child's stdin (`nil`: `/dev/null`).
    public let stdin: [UInt8]?
    /// Replacement environment (`"K=V"`), `nil` to inherit.
    public let environment: [String]?
    /// Captured bytes per stream; the rest is read and discarded.
    public let maxOutputBytes: Int

    private var context: NativeContext?
    private var child: ChildProcess?
    private var pidfd: Int32 = -1
    private var stdoutRegistration: RegistrationID?
    private var stderrRegistration: RegistrationID?
    private var stdinRegistration: RegistrationID?
    private var pidRegistration: RegistrationID?
    private var stdoutBytes: [UInt8] = []
    private var stderrBytes: [UInt8] = []
    private var truncated = false
    private var stdinOffset = 0
    private var finished = false
    private var scratch: UnsafeMutableRawBufferPointer?
    /// Watch the exit with a pidfd when the kernel has one (tests turn it off to cover the
    /// `waitpid(WNOHANG)` timer fallback).
    var usePidfd = true

    /// Creates the operation (nothing runs until it is started).
    public init(command: String, stdin: String? = nil, environment: [String]? = nil, maxOutputBytes: Int = 8 << 20) {
        self.command = command
        self.stdin = stdin.map { Array($0.utf8) }
        self.environment = environment
        self.maxOutputBytes = maxOutputBytes
    }

    deinit {
        scratch?.deallocate()
    }

    /// The spawned child's pid (its process group id too), once started natively.
    public var childPID: Int32? { child?.pid }

    // MARK: - Native

    public func start(_ context: NativeContext) {
        self.context = context
        let spawned: ChildProcess
        do {
            spawned = try ChildProcess.spawn(command: command, environment: environment, withStdin: stdin != nil)
        } catch {
            finished = true
            context.complete(AsyncResult(rc: AsyncResult.rcError, outputs: [AsyncOutput("stderr", .string(error.description))]))
            return
        }
        child = spawned
        scratch = .allocate(byteCount: 64 << 10, alignment: 16)
        do {
            stdoutRegistration = try context.register(fd: spawned.stdoutFD, interest: .read) { [self] _ in readStream(stdout: true) }
            stderrRegistration = try context.register(fd: spawned.stderrFD, interest: .read) { [self] _ in readStream(stdout: false) }
            if spawned.stdinFD >= 0 {
                stdinRegistration = try context.register(fd: spawned.stdinFD, interest: .write) { [self] _ in writeInput() }
            }
            pidfd = usePidfd ? ChildProcess.pidfd(for: spawned.pid) : -1
            if pidfd >= 0 {
                pidRegistration = try context.register(fd: pidfd, interest: .read) { [self] _ in checkExit() }
            } else {
                pollExit(afterMs: 5)
            }
        } catch {
            abort(rc: AsyncResult.rcError)
        }
    }

    public func cancel() {
        guard !finished, let child else { return }
        finished = true
        closeDescriptors(keepPidfd: true)
        ChildProcess.killGroup(child.pid)
        if let reactor = context?.reactor {
            ChildProcess.reapEventually(child.pid, pidfd: pidfd, on: reactor)
        } else if pidfd >= 0 {
            try? System.close(pidfd)
        }
        pidfd = -1
    }

    private func readStream(stdout: Bool) {
        guard !finished, var child, let scratch else { return }
        let outcome: ExecIO.ReadOutcome
        if stdout {
            outcome = ExecIO.readAvailable(child.stdoutFD, into: &stdoutBytes, limit: maxOutputBytes, truncated: &truncated, scratch: scratch)
        } else {
            outcome = ExecIO.readAvailable(child.stderrFD, into: &stderrBytes, limit: maxOutputBytes, truncated: &truncated, scratch: scratch)
        }
        guard case .closed = outcome else { return }
        if stdout {
            if let id = stdoutRegistration { context?.deregister(id) }
            stdoutRegistration = nil
            ExecIO.close(&child.stdoutFD)
        } else {
            if let id = stderrRegistration { context?.deregister(id) }
            stderrRegistration = nil
            ExecIO.close(&child.stderrFD)
        }
        self.child = child
    }

    private func writeInput() {
        guard !finished, var child, let stdin else { return }
        guard ExecIO.writeAvailable(child.stdinFD, stdin, offset: &stdinOffset) else { return }
        if let id = stdinRegistration { context?.deregister(id) }
        stdinRegistration = nil
        ExecIO.close(&child.stdinFD)  // EOF for the child
        self.child = child
    }

    private func pollExit(afterMs delay: UInt64) {
        context?.schedule(afterMilliseconds: delay) { [self] in
            checkExit()
            if !finished { pollExit(afterMs: min(delay * 2, 100)) }
        }
    }

    private func checkExit() {
        guard !finished, let pid = child?.pid, let status = ChildProcess.reap(pid) else { return }
        // Everything the child wrote is in the pipes now: take what is there (a grandchild holding
        // the pipes open does not delay the result).
        readStream(stdout: true)
        readStream(stdout: false)
        finished = true
        closeDescriptors(keepPidfd: false)
        context?.complete(ExecIO.result(status: status, stdout: stdoutBytes, stderr: stderrBytes))
    }

    private func abort(rc: Int) {
        guard let child else { return }
        finished = true
        closeDescriptors(keepPidfd: true)
        ChildProcess.killGroup(child.pid)
        if let reactor = context?.reactor { ChildProcess.reapEventually(child.pid, pidfd: pidfd, on: reactor) }
        pidfd = -1
        context?.complete(AsyncResult(rc: rc))
    }

    private func closeDescriptors(keepPidfd: Bool) {
        // Deregister before closing: a closed number may be reused at once by another job's descriptor.
        for id in [stdoutRegistration, stderrRegistration, stdinRegistration, pidRegistration].compactMap({ $0 }) {
            context?.deregister(id)
        }
        stdoutRegistration = nil
        stderrRegistration = nil
        stdinRegistration = nil
        pidRegistration = nil
        if var child {
            ExecIO.close(&child.stdoutFD)
            ExecIO.close(&child.stderrFD)
            ExecIO.close(&child.stdinFD)
            self.child = child
        }
        if !keepPidfd { ExecIO.close(&pidfd) }
    }

    // MARK: - Blocking

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let command = self.command
        let stdin = self.stdin
        let environment = self.environment
        let limit = maxOutputBytes
        return { Self.runBlocking(command: command, stdin: stdin, environment: environment, timeoutMs: timeoutMs, limit: limit) }
    }

    static func runBlocking(command: String, stdin: [UInt8]?, environment: [String]?, timeoutMs: UInt64, limit: Int) -> AsyncResult {
        var child: ChildProcess
        do {
            child = try ChildProcess.spawn(command: command, environment: environment, withStdin: stdin != nil)
        } catch {
            return AsyncResult(rc: AsyncResult.rcError, outputs: [AsyncOutput("stderr", .string(error.description))])
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { scratch.deallocate() }
        var pidfd = ChildProcess.pidfd(for: child.pid)
        defer { ExecIO.close(&pidfd) }
        var out: [UInt8] = [], err: [UInt8] = []
        var truncated = false
        var offset = 0
        if let stdin, stdin.isEmpty { ExecIO.close(&child.stdinFD) }
        let deadline = System.monotonicNanoseconds() &+ timeoutMs &* 1_000_000

        func finish(_ status: Int32?, rc: Int? = nil) -> AsyncResult {
            _ = ExecIO.readAvailable(child.stdoutFD, into: &out, limit: limit, truncated: &truncated, scratch: scratch)
            _ = ExecIO.readAvailable(child.stderrFD, into: &err, limit: limit, truncated: &truncated, scratch: scratch)
            ExecIO.close(&child.stdoutFD)
            ExecIO.close(&child.stderrFD)
            ExecIO.close(&child.stdinFD)
            return ExecIO.result(status: status, stdout: out, stderr: err, rc: rc)
        }

        while true {
            if let status = ChildProcess.reap(child.pid) { return finish(status) }
            let now = System.monotonicNanoseconds()
            if now >= deadline {
                ChildProcess.killGroup(child.pid)
                let status = ChildProcess.reapBlocking(child.pid)  // SIGKILL: returns promptly
                return finish(status, rc: AsyncResult.rcTimeout)
            }
            var fds: [pollfd] = []
            if child.stdoutFD >= 0 { fds.append(pollfd(fd: child.stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if child.stderrFD >= 0 { fds.append(pollfd(fd: child.stderrFD, events: Int16(POLLIN), revents: 0)) }
            if child.stdinFD >= 0 { fds.append(pollfd(fd: child.stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            let remainingMs = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            let wait = pidfd >= 0 ? remainingMs : min(remainingMs, 5)
            _ = poll(&fds, nfds_t(fds.count), wait)
            for entry in fds where entry.revents != 0 {
                if entry.fd == child.stdoutFD {
                    if case .closed = ExecIO.readAvailable(entry.fd, into: &out, limit: limit, truncated: &truncated, scratch: scratch) {
                        ExecIO.close(&child.stdoutFD)
                    }
                } else if entry.fd == child.stderrFD {
                    if case .closed = ExecIO.readAvailable(entry.fd, into: &err, limit: limit, truncated: &truncated, scratch: scratch) {
                        ExecIO.close(&child.stderrFD)
                    }
                } else if entry.fd == child.stdinFD, let stdin {
                    if ExecIO.writeAvailable(entry.fd, stdin, offset: &offset) { ExecIO.close(&child.stdinFD) }
                }
            }
        }
    }
}
