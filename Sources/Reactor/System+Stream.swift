import CReactor
import Glibc

/// The stream-socket (TCP) calls of the thin syscall layer: listen, accept, a connect that never
/// blocks, the pending error of a connect in progress. Same conventions as the rest of ``System``.
extension System {
    /// A nonblocking, close-on-exec TCP socket listening on `address` (`SO_REUSEADDR`; with `reusePort`
    /// also `SO_REUSEPORT`, so each worker can listen on the same address and the kernel spreads new
    /// connections over them). IPv6 sockets are v6-only.
    public static func listeningStreamSocket(_ address: SocketAddress, reusePort: Bool,
                                             backlog: Int32 = 1024) throws(IOError) -> Int32 {
        let fd = try socket(domain: address.family.rawValue, type: Int32(SOCK_STREAM.rawValue))
        do {
            try setSocketOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            if reusePort { try setSocketOption(fd, level: SOL_SOCKET, name: SO_REUSEPORT, value: 1) }
            if address.family == .ipv6 {
                try setSocketOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1)
            }
            try bind(fd, to: address)
            _ = try retrying("listen") { Glibc.listen(fd, backlog) }
        } catch {
            try? close(fd)
            throw error
        }
        return fd
    }

    /// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`: the new descriptor and the peer's address, or
    /// `.wouldBlock` when no connection is pending.
    public static func accept(_ fd: Int32) throws(IOError) -> IOResult<(fd: Int32, peer: SocketAddress)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try retryingIO("accept4") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    creactor_accept4(fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
                }
            }
        }
        guard case .processed(let accepted) = result else { return .wouldBlock }
        guard let peer = SocketAddress(storage: storage, length: length) else {
            try? close(accepted)
            throw IOError(errno: EAFNOSUPPORT, function: "accept4")
        }
        return .processed((accepted, peer))
    }

    /// A nonblocking TCP connect to `address`: the descriptor, and whether the connect is still in
    /// progress (wait for writability, then read ``pendingSocketError(_:)``).
    /// `local`: the address to bind first (port 0: any), so the connection leaves from that interface.
    public static func connectStream(to address: SocketAddress, from local: SocketAddress? = nil)
        throws(IOError) -> (fd: Int32, inProgress: Bool) {
        let fd = try socket(domain: address.family.rawValue, type: Int32(SOCK_STREAM.rawValue))
        try? setSocketOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
        if let local, local.family == address.family {
            do {
                try bind(fd, to: local)
            } catch {
                try? close(fd)
                throw error
            }
        }
        let rc = address.withSockAddr { addr, len in Glibc.connect(fd, addr, len) }
        if rc == 0 { return (fd, false) }
        let code = Glibc.errno
        if code == EINPROGRESS || code == EINTR { return (fd, true) }
        try? close(fd)
        throw IOError(errno: code, function: "connect")
    }

    /// `SO_ERROR`: 0 once a nonblocking connect succeeded, its errno otherwise.
    public static func pendingSocketError(_ fd: Int32) -> Int32 {
        (try? socketOption(fd, level: SOL_SOCKET, name: SO_ERROR)) ?? EBADF
    }

    /// The `RLIMIT_NOFILE` soft and hard limits, nil if `getrlimit` fails.
    public static func descriptorLimits() -> (soft: Int, hard: Int)? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let cap = rlim_t(Int.max)
        return (Int(min(limit.rlim_cur, cap)), Int(min(limit.rlim_max, cap)))
    }

    /// Sets the `RLIMIT_NOFILE` soft limit (the hard limit unchanged). False when `setrlimit` refuses.
    public static func setDescriptorSoftLimit(_ soft: Int) -> Bool {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
        limit.rlim_cur = min(rlim_t(max(0, soft)), limit.rlim_max)
        return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0
    }

    /// `RLIMIT_NOFILE` raised to at least `wanted` (up to the hard limit). Returns the soft limit in force.
    @discardableResult
    public static func raiseDescriptorLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if Int(limit.rlim_cur) < wanted {
            let target = min(rlim_t(wanted), limit.rlim_max)
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(target) }
        }
        return Int(limit.rlim_cur)
    }
}
