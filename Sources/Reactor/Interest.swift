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

    /// The epoll mask for this interest.
    var epollEvents: UInt32 {
        var mask: UInt32 = 0
        if contains(.read) { mask |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if contains(.write) { mask |= EPOLLOUT.rawValue }
        return mask
    }
}
