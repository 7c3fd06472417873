/// How one driver's operations are executed (configurable per driver).
public enum AsyncMode: String, Sendable, CaseIterable {
    /// Event-driven on the worker's reactor (fds and timers; no thread).
    case native
    /// The blocking form runs on the ``OffloadPool`` (never on a SIP worker).
    case offload
    /// The blocking form runs inline on the worker. Blocks the worker: for benchmarks only.
    case sync

    /// The execution path this mode needs.
    public var path: AsyncPaths { self == .native ? .native : .blocking }
}

/// The execution paths a driver implements.
public struct AsyncPaths: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// ``AsyncOperation/start(_:)`` / ``AsyncOperation/cancel()`` on the reactor.
    public static let native = AsyncPaths(rawValue: 1 << 0)
    /// ``AsyncOperation/makeBlocking(timeoutMs:)`` (used by `offload` and `sync`).
    public static let blocking = AsyncPaths(rawValue: 1 << 1)
    /// Both.
    public static let all: AsyncPaths = [.native, .blocking]
}
