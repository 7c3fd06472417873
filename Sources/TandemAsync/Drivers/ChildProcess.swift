import Glibc
import Reactor

/// A `/bin/sh -c` child started with `posix_spawn` (the worker's memory is never forked): its pipes,
/// process group and reaping helpers. Used by ``ExecOperation``.
struct ChildProcess {
    /// Child pid (also its process group id).
    let pid: pid_t
    /// Our end of the child's stdin (a nonblocking `AF_UNIX` stream socket, so writes can use
    /// `MSG_NOSIGNAL` and never raise `SIGPIPE`), or -1 when stdin is `/dev/null`.
    var stdinFD: Int32
    /// Our (nonblocking) end of the child's stdout pipe.
    var stdoutFD: Int32
    /// Our (nonblocking) end of the child's stderr pipe.
    var stderrFD: Int32

    /// Spawns `/bin/sh -c command` in its own process group with default signal dispositions and an
    /// empty signal mask. `environment` (`"K=V"` entries) replaces the environment when given.
    static func spawn(command: String, environment: [String]?, withStdin: Bool) throws(IOError) -> ChildProcess {
        var opened: [Int32] = []
        func closeAll() { for fd in opened { try? System.close(fd) } }

        let out: (read: Int32, write: Int32)
        let err: (read: Int32, write: Int32)
        var input: (ours: Int32, child: Int32) = (-1, -1)
        do throws(IOError) {
            out = try System.pipe()
            opened += [out.read, out.write]
            err = try System.pipe()
            opened += [err.read, err.write]
            // The child's ends must be blocking (O_NONBLOCK lives on the shared file description).
            try System.setNonBlocking(out.write, false)
            try System.setNonBlocking(err.write, false)
            if withStdin {
                var pair: [Int32] = [-1, -1]
                if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) != 0 {
                    throw IOError(errno: errno, function: "socketpair")
                }
                opened += pair
                input = (pair[0], pair[1])
                try System.setNonBlocking(input.ours, true)
                shutdown(input.ours, Int32(SHUT_RD))
                shutdown(input.child, Int32(SHUT_WR))
            }
        } catch {
            closeAll()
            throw error
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input.child >= 0 {
            posix_spawn_file_actions_adddup2(&actions, input.child, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out.write, 1)
        posix_spawn_file_actions_adddup2(&actions, err.write, 2)
        // Nothing else reaches the child: Tandem's own descriptors are O_CLOEXEC, but a C library's
        // need not be.
        do throws(IOError) {
            try System.spawnCloseFrom(&actions, lowest: 3)
        } catch {
            closeAll()
            throw error
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            for p in argv { free(p) }
            if let envp { for p in envp { free(p) } }
        }
        var pid: pid_t = 0
        let rc: Int32
        if let envp {
            rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        } else {
            rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        }
        // The child's ends are no longer ours.
        try? System.close(out.write)
        try? System.close(err.write)
        if input.child >= 0 { try? System.close(input.child) }
        if rc != 0 {
            try? System.close(out.read)
            try? System.close(err.read)
            if input.ours >= 0 { try? System.close(input.ours) }
            throw IOError(errno: rc, function: "posix_spawn")
        }
        return ChildProcess(pid: pid, stdinFD: input.ours, stdoutFD: out.read, stderrFD: err.read)
    }

    // MARK: - Process helpers

    private typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    /// glibc ≥ 2.36 exports `pidfd_open`; looked up once (absent → polling fallback).
    private static let pidfdOpenFunction: PidfdOpen? = {
        guard let symbol = dlsym(nil, "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: PidfdOpen.self)
    }()

    /// A pollable descriptor that becomes readable when `pid` exits (Linux 5.3+), or -1.
    static func pidfd(for pid: pid_t) -> Int32 {
        guard let open = pidfdOpenFunction else { return -1 }
        let fd = open(pid, 0)
        if fd >= 0 { _ = try? System.setCloseOnExec(fd) }
        return fd
    }

    /// `waitpid(WNOHANG)`: the raw status once the child was reaped, `nil` while it runs.
    /// A child reaped by someone else (`ECHILD`) reports status `-1`.
    static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r == 0 { return nil }
            if errno == EINTR { continue }
            return -1
        }
    }

    /// Blocking `waitpid` (offload/sync forms only).
    static func reapBlocking(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return status
    }

    /// SIGKILL to the child's process group (and the child itself).
    static func killGroup(_ pid: pid_t) {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
    }

    /// Exit code from a wait status: the code for a normal exit, 128+signal when killed, -1 unknown.
    static func exitCode(_ status: Int32) -> Int {
        if status < 0 { return -1 }
        let signal = status & 0x7f
        if signal == 0 { return Int((status >> 8) & 0xff) }
        return 128 + Int(signal)
    }

    /// Reaps a killed child in the background on `reactor` (its pidfd, or a retry timer), so that no
    /// zombie is left and the worker never blocks. Takes ownership of `pidfd`.
    static func reapEventually(_ pid: pid_t, pidfd: Int32, on reactor: Reactor) {
        if reap(pid) != nil {
            if pidfd >= 0 { try? System.close(pidfd) }
            return
        }
        if pidfd >= 0 {
            final class Holder { var id: RegistrationID? }
            let holder = Holder()
            holder.id = try? reactor.register(fd: pidfd, interest: .read) { _ in
                guard reap(pid) != nil else { return }
                if let id = holder.id { reactor.deregister(id) }
                holder.id = nil
                try? System.close(pidfd)
            }
            if holder.id != nil { return }
            try? System.close(pidfd)
        }
        func retry(_ delayMs: UInt64) {
            reactor.schedule(afterMilliseconds: delayMs) {
                if reap(pid) == nil { retry(min(delayMs * 2, 1000)) }
            }
        }
        retry(5)
    }
}
