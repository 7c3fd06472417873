import CReactor

/// What a registered descriptor should be watched for. Errors and hang-ups are always reported.
public struct Interest: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Readable (or EOF / pending error).
    public static let read = Interest(rawValue: 1 << 0)
    /// Writable.
    public static let write = Interest(rawValue: 1 << 1)
    /// Both.
    public static let readWrite: Interest = [.read, .write]
    /// Exclusive wake-up (`EPOLLEXCLUSIVE`): when several reactors watch the same descriptor, an event
    /// wakes one of those blocked in `epoll_wait` instead of all of them. Only at registration: a
    /// registration with it cannot be modified (the kernel refuses `EPOLL_CTL_MOD`), and a peer's
    /// half-close (`EPOLLRDHUP`) is not reported separately — fine for datagram sockets and pipes.
    public static let exclusive = Interest(rawValue: 1 << 2)

    /// The epoll mask for this interest.
    var epollEvents: UInt32 {
        var mask: UInt32 = 0
        if contains(.read) { mask |= EPOLLIN.rawValue }
        if contains(.write) { mask |= EPOLLOUT.rawValue }
        if contains(.exclusive) {
            // The kernel refuses EPOLLRDHUP next to EPOLLEXCLUSIVE (EINVAL).
            mask |= EPOLLEXCLUSIVE.rawValue
        } else if contains(.read) {
            mask |= EPOLLRDHUP.rawValue
        }
        return mask
    }
}
