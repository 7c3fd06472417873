import CReactor
import Glibc

/// The one thin syscall layer used by the reactor and sockets.
///
/// Conventions for every call:
/// - `EINTR` is retried (except `close`, where Linux has already released the fd, and `epoll_wait`,
///   which reports 0 events so the caller can recompute its timeout);
/// - `EAGAIN`/`EWOULDBLOCK` become ``IOResult/wouldBlock`` for calls that can legitimately block;
/// - any other failure throws ``IOError`` carrying errno and the function name.
/// File descriptors are created nonblocking and close-on-exec.
public enum System {
    // MARK: - Retry helpers

    /// Runs `body` until it does not fail with EINTR; maps EAGAIN to `.wouldBlock`, throws otherwise.
    @inline(__always)
    static func retryingIO<T: BinaryInteger>(
        _ function: String, _ body: () -> T
    ) throws(IOError) -> IOResult<T> {
        while true {
            let result = body()
            if result >= 0 { return .processed(result) }
            let code = Glibc.errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw IOError(errno: code, function: function)
        }
    }

    /// Runs `body` until it does not fail with EINTR; throws on any other failure (EAGAIN included).
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ function: String, _ body: () -> T) throws(IOError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw IOError(errno: code, function: function)
        }
    }

    // MARK: - Processes

    /// Makes a `posix_spawn` child close every descriptor from `lowest` up before it runs the program
    /// (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34+).
    public static func spawnCloseFrom(_ actions: inout posix_spawn_file_actions_t, lowest: Int32) throws(IOError) {
        let rc = creactor_spawn_addclosefrom(&actions, lowest)
        if rc != 0 { throw IOError(errno: rc, function: "posix_spawn_file_actions_addclosefrom_np") }
    }

    // MARK: - Sockets

    /// `socket(2)`; always adds `SOCK_NONBLOCK | SOCK_CLOEXEC`.
    @inline(never)
    public static func socket(domain: Int32, type: Int32, protocol proto: Int32 = 0) throws(IOError) -> Int32 {
        let flags = Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        return try retrying("socket") { Glibc.socket(domain, type | flags, proto) }
    }

    /// `bind(2)`.
    @inline(never)
    public static func bind(_ fd: Int32, to address: SocketAddress) throws(IOError) {
        _ = try retrying("bind") {
            address.withSockAddr { addr, len in Glibc.bind(fd, addr, len) }
        }
    }

    /// `connect(2)` (for UDP: sets the default peer; never blocks).
    @inline(never)
    public static func connect(_ fd: Int32, to address: SocketAddress) throws(IOError) {
        _ = try retrying("connect") {
            address.withSockAddr { addr, len in Glibc.connect(fd, addr, len) }
        }
    }

    /// `setsockopt(2)` with an `Int32` value.
    @inline(never)
    public static func setSocketOption(_ fd: Int32, level: Int32, name: Int32, value: Int32) throws(IOError) {
        var value = value
        _ = try retrying("setsockopt") {
            Glibc.setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// `getsockopt(2)` for an `Int32` option.
    @inline(never)
    public static func socketOption(_ fd: Int32, level: Int32, name: Int32) throws(IOError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try retrying("getsockopt") { Glibc.getsockopt(fd, level, name, &value, &length) }
        return value
    }

    /// `getsockname(2)`.
    @inline(never)
    public static func localAddress(of fd: Int32) throws(IOError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try retrying("getsockname") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd, $0, &length) }
            }
        }
        guard let address = SocketAddress(storage: storage, length: length) else {
            throw IOError(errno: EAFNOSUPPORT, function: "getsockname")
        }
        return address
    }

    /// `recvfrom(2)` into `buffer`; the sender is written to `storage`. Returns the datagram length
    /// (which may exceed `buffer.count` when `MSG_TRUNC` is passed in `flags`).
    @inline(__always)
    public static func recvfrom(
        _ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, flags: Int32,
        from storage: UnsafeMutablePointer<sockaddr_storage>, length: UnsafeMutablePointer<socklen_t>
    ) throws(IOError) -> IOResult<Int> {
        try retryingIO("recvfrom") {
            length.pointee = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, flags, $0, length)
            }
        }
    }

    /// `recvmsg(2)`.
    @inline(never)
    public static func recvmsg(_ fd: Int32, _ message: UnsafeMutablePointer<msghdr>, flags: Int32) throws(IOError) -> IOResult<Int> {
        try retryingIO("recvmsg") { Glibc.recvmsg(fd, message, flags) }
    }

    /// `sendto(2)`.
    @inline(__always)
    public static func sendto(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to address: SocketAddress) throws(IOError) -> IOResult<Int> {
        try retryingIO("sendto") {
            address.withSockAddr { addr, len in
                Glibc.sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), addr, len)
            }
        }
    }

    /// `send(2)` on a connected socket.
    @inline(never)
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try retryingIO("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    // MARK: - Memory

    /// `malloc_trim(0)`: hands the free pages of every malloc arena back to the kernel. glibc returns
    /// only the top of a heap by itself, so after a burst of short-lived allocations the process keeps
    /// its high-water mark otherwise. Takes the arena locks for a moment. True if pages were released.
    @discardableResult
    public static func releaseFreeMemory() -> Bool { creactor_malloc_trim(0) != 0 }

    /// What ``tuneMallocForServer(environment:)`` sets: keep 16 MiB of slack at the top of each arena.
    ///
    /// Each worker thread allocates from its own glibc arena, a heap that grows a page at a time with one
    /// `mprotect(2)` per growth and is trimmed (`madvise(MADV_DONTNEED)`) whenever 128 KiB lie free at its
    /// top — so a proxy whose transactions pile up paid an `mprotect` per page of growth (1.3 per relayed
    /// call, issue 19), and one whose load ebbs and flows had pages trimmed and faulted in again.
    /// `M_TOP_PAD` makes a new arena heap writable 16 MiB beyond its first request (virtual: pages count in
    /// RSS only once touched), and with `M_TRIM_THRESHOLD` an arena keeps up to 16 MiB free at its top
    /// instead of 128 KiB. Free memory still goes back after a burst: ``releaseFreeMemory()`` (`malloc_trim`,
    /// called by the proxy's memory trim) ignores both. Setting either one turns off glibc's sliding mmap
    /// threshold, so `M_MMAP_THRESHOLD` is set to 1 MiB: blocks of that size or more are mapped on their
    /// own, smaller ones come from the arenas.
    public static let mallocTopPadBytes: Int32 = 16 << 20
    /// See ``mallocTopPadBytes``.
    public static let mallocTrimThresholdBytes: Int32 = 16 << 20
    /// See ``mallocTopPadBytes``.
    public static let mallocMmapThresholdBytes: Int32 = 1 << 20

    /// True if the environment sets any of glibc's malloc tunables (`GLIBC_TUNABLES` with a
    /// `glibc.malloc.` entry, or a `MALLOC_*_` variable): the operator's choice then stands.
    public static func mallocTunedByEnvironment(_ environment: (String) -> String?) -> Bool {
        if let tunables = environment("GLIBC_TUNABLES"), tunables.contains("glibc.malloc.") { return true }
        for name in ["MALLOC_TOP_PAD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX"]
        where environment(name) != nil {
            return true
        }
        return false
    }

    /// Sizes glibc's malloc for a long-running multi-threaded server (``mallocTopPadBytes``), unless the
    /// environment tunes malloc itself. Call it once at start, before the worker threads exist (arenas
    /// created earlier keep their first heap's size). Returns true if the parameters were set.
    @discardableResult
    public static func tuneMallocForServer(environment: (String) -> String? = { name in
        getenv(name).map { String(cString: $0) }
    }) -> Bool {
        guard !mallocTunedByEnvironment(environment) else { return false }
        let top = creactor_mallopt(CREACTOR_M_TOP_PAD, mallocTopPadBytes)
        let trim = creactor_mallopt(CREACTOR_M_TRIM_THRESHOLD, mallocTrimThresholdBytes)
        let mmap = creactor_mallopt(CREACTOR_M_MMAP_THRESHOLD, mallocMmapThresholdBytes)
        return top == 1 && trim == 1 && mmap == 1
    }

    // MARK: - Files

    /// `read(2)`; `.processed(0)` means end of file.
    @inline(never)
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try retryingIO("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)`.
    @inline(never)
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try retryingIO("write") { Glibc.write(fd, bytes.baseAddress, bytes.count) }
    }

    /// `close(2)`. EINTR is not retried: on Linux the descriptor is released even then, and a retry
    /// could close a descriptor another thread just received.
    @inline(never)
    public static func close(_ fd: Int32) throws(IOError) {
        if Glibc.close(fd) != 0 {
            let code = Glibc.errno
            if code == EINTR { return }
            throw IOError(errno: code, function: "close")
        }
    }

    /// `fcntl(F_SETFL, O_NONBLOCK)` on or off.
    @inline(never)
    public static func setNonBlocking(_ fd: Int32, _ enabled: Bool = true) throws(IOError) {
        let flags = try retrying("fcntl") { fcntl(fd, F_GETFL) }
        let updated = enabled ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if updated != flags { _ = try retrying("fcntl") { fcntl(fd, F_SETFL, updated) } }
    }

    /// `fcntl(F_SETFD, FD_CLOEXEC)` on or off.
    @inline(never)
    public static func setCloseOnExec(_ fd: Int32, _ enabled: Bool = true) throws(IOError) {
        let flags = try retrying("fcntl") { fcntl(fd, F_GETFD) }
        let updated = enabled ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        if updated != flags { _ = try retrying("fcntl") { fcntl(fd, F_SETFD, updated) } }
    }

    /// `pipe2(O_NONBLOCK | O_CLOEXEC)`; returns (read end, write end).
    @inline(never)
    public static func pipe() throws(IOError) -> (read: Int32, write: Int32) {
        var fds: (Int32, Int32) = (-1, -1)
        _ = try retrying("pipe2") {
            withUnsafeMutablePointer(to: &fds) {
                $0.withMemoryRebound(to: Int32.self, capacity: 2) { creactor_pipe2($0, O_NONBLOCK | O_CLOEXEC) }
            }
        }
        return (fds.0, fds.1)
    }

    // MARK: - epoll

    /// `epoll_create1(EPOLL_CLOEXEC)`.
    @inline(never)
    public static func epollCreate() throws(IOError) -> Int32 {
        try retrying("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    /// `epoll_ctl(2)`; `events` is a mask of `EPOLL*` bits, `data` the 64-bit user data.
    @inline(never)
    public static func epollControl(_ epfd: Int32, _ op: Int32, fd: Int32, events: UInt32, data: UInt64) throws(IOError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        _ = try retrying("epoll_ctl") { epoll_ctl(epfd, op, fd, &event) }
    }

    /// `epoll_wait(2)`; `timeoutMs` < 0 blocks. Returns 0 on EINTR (the caller recomputes timers).
    @inline(never)
    public static func epollWait(
        _ epfd: Int32, events: UnsafeMutablePointer<epoll_event>, maxEvents: Int32, timeoutMs: Int32
    ) throws(IOError) -> Int {
        let n = epoll_wait(epfd, events, maxEvents, timeoutMs)
        if n >= 0 { return Int(n) }
        let code = Glibc.errno
        if code == EINTR { return 0 }
        throw IOError(errno: code, function: "epoll_wait")
    }

    // MARK: - eventfd

    /// `eventfd(initial, EFD_NONBLOCK | EFD_CLOEXEC)`.
    @inline(never)
    public static func eventFD(initialValue: UInt32 = 0) throws(IOError) -> Int32 {
        try retrying("eventfd") { eventfd(initialValue, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// Reads (and resets) an eventfd counter.
    @inline(never)
    public static func eventFDRead(_ fd: Int32) throws(IOError) -> IOResult<UInt64> {
        var value: UInt64 = 0
        let result = try retryingIO("eventfd_read") { Glibc.read(fd, &value, 8) }
        switch result {
        case .processed: return .processed(value)
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Adds `value` to an eventfd counter.
    @inline(never)
    public static func eventFDWrite(_ fd: Int32, _ value: UInt64 = 1) throws(IOError) -> IOResult<Void> {
        var value = value
        let result = try retryingIO("eventfd_write") { Glibc.write(fd, &value, 8) }
        switch result {
        case .processed: return .processed(())
        case .wouldBlock: return .wouldBlock
        }
    }

    // MARK: - Time

    /// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
