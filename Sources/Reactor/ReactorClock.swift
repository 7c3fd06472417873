import Glibc

/// Source of "now" for a ``Reactor``. The real loop uses ``MonotonicClock``; tests inject a
/// ``ManualClock`` and advance it by hand so timers fire deterministically.
public protocol ReactorClock: AnyObject, Sendable {
    /// The current time.
    func now() -> Deadline
}

/// `CLOCK_MONOTONIC`.
public final class MonotonicClock: ReactorClock {
    /// Creates the clock (stateless).
    public init() {}

    @inline(__always)
    public func now() -> Deadline { Deadline(nanoseconds: System.monotonicNanoseconds()) }
}

/// A clock that only moves when told to. Thread-safe, so a test may advance it from any thread.
///
/// `@unchecked Sendable`: the single mutable field is only accessed under `lock`.
public final class ManualClock: ReactorClock, @unchecked Sendable {
    private let lock = Lock()
    private var current: Deadline

    /// Starts at `start` (default: 1 s, so that "a bit before now" is representable).
    public init(start: Deadline = Deadline(nanoseconds: 1_000_000_000)) {
        current = start
    }

    public func now() -> Deadline { lock.withLock { current } }

    /// Moves time forward by `duration`.
    public func advance(by duration: Duration) {
        lock.withLock { current = current + duration }
    }

    /// Moves time forward by `ms` milliseconds.
    public func advance(byMilliseconds ms: UInt64) {
        lock.withLock { current = current.advanced(byMilliseconds: ms) }
    }

    /// Sets the time; it must not go backwards.
    public func set(to deadline: Deadline) {
        lock.withLock {
            precondition(deadline >= current, "ManualClock cannot go backwards")
            current = deadline
        }
    }
}
