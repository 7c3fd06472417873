import Reactor
import Synchronization

/// Mutable state captured by loop-thread callbacks (one thread: not `Sendable`).
public final class Box<T> {
    /// The value.
    public var value: T
    /// A box holding `value`.
    public init(_ value: T) { self.value = value }
}

/// A thread-safe cell for cross-thread checks.
public final class Shared<T: Sendable>: Sendable {
    private let storage: Mutex<T>
    /// A cell holding `value`.
    public init(_ value: T) { storage = Mutex(value) }
    /// The current value.
    public var value: T { storage.withLock { $0 } }
    /// Changes the value under the lock.
    @discardableResult
    public func mutate<R>(_ body: (inout T) -> R) -> R { storage.withLock { body(&$0) } }
}

/// Monotonic milliseconds (real time).
public func nowMs() -> UInt64 { System.monotonicNanoseconds() / 1_000_000 }

/// Runs `reactor`'s loop until `condition` holds or about `limitMs` of real time passed.
public func spin(_ reactor: Reactor, limitMs: Int = 5000, until condition: () -> Bool) throws {
    let start = System.monotonicNanoseconds()
    while !condition() {
        if System.monotonicNanoseconds() - start > UInt64(limitMs) * 1_000_000 { return }
        try reactor.runOnce(timeoutMs: 10)
    }
}

/// Deterministic pseudo-random generator (SplitMix64), so that randomized tests are reproducible.
public struct SplitMix64: RandomNumberGenerator {
    /// The generator's state (the seed at first).
    public var state: UInt64
    /// A generator seeded with `state`.
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
