import CReactor

/// Readiness reported to a registration's callback for one loop iteration.
public struct ReadyEvents: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Data (or EOF) can be read.
    public static let readable = ReadyEvents(rawValue: 1 << 0)
    /// Data can be written.
    public static let writable = ReadyEvents(rawValue: 1 << 1)
    /// An error is pending (`EPOLLERR`; for UDP sockets with `IP_RECVERR` also: the error queue is non-empty).
    public static let error = ReadyEvents(rawValue: 1 << 2)
    /// The peer hung up (`EPOLLHUP` / `EPOLLRDHUP`), e.g. the write end of a pipe closed.
    public static let hangup = ReadyEvents(rawValue: 1 << 3)

    /// Translates an epoll event mask.
    init(epoll mask: UInt32) {
        var value: UInt8 = 0
        if mask & EPOLLIN.rawValue != 0 { value |= ReadyEvents.readable.rawValue }
        if mask & EPOLLOUT.rawValue != 0 { value |= ReadyEvents.writable.rawValue }
        if mask & EPOLLERR.rawValue != 0 { value |= ReadyEvents.error.rawValue }
        if mask & (EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 { value |= ReadyEvents.hangup.rawValue }
        rawValue = value
    }

    public var description: String {
        var parts: [String] = []
        if contains(.readable) { parts.append("readable") }
        if contains(.writable) { parts.append("writable") }
        if contains(.error) { parts.append("error") }
        if contains(.hangup) { parts.append("hangup") }
        return "[" + parts.joined(separator: ",") + "]"
    }
}
