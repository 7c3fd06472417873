/// A point on the reactor's monotonic time line, in nanoseconds (`CLOCK_MONOTONIC` for the real clock,
/// arbitrary for a ``ManualClock``). Cheap to compare and store: a single `UInt64`.
public struct Deadline: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// Creates a deadline at `nanoseconds` on the clock's time line.
    @inlinable
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The far future (never reached).
    public static let distantFuture = Deadline(nanoseconds: .max)

    @inlinable
    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Saturating addition of a non-negative duration (negative durations count as zero).
    @inlinable
    public static func + (lhs: Deadline, rhs: Duration) -> Deadline {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.clampedNanoseconds)
        return Deadline(nanoseconds: overflow ? .max : sum)
    }

    /// Saturating addition of milliseconds.
    @inlinable
    public func advanced(byMilliseconds ms: UInt64) -> Deadline {
        let (delta, o1) = ms.multipliedReportingOverflow(by: 1_000_000)
        let (sum, o2) = nanoseconds.addingReportingOverflow(delta)
        return Deadline(nanoseconds: o1 || o2 ? .max : sum)
    }

    /// Nanoseconds from `self` until `later` (0 if `later` is not after `self`).
    @inlinable
    public func nanoseconds(until later: Deadline) -> UInt64 {
        later.nanoseconds > nanoseconds ? later.nanoseconds - nanoseconds : 0
    }

    /// The signed duration `lhs - rhs`.
    @inlinable
    public static func - (lhs: Deadline, rhs: Deadline) -> Duration {
        if lhs >= rhs { return .nanoseconds(Int64(clamping: lhs.nanoseconds - rhs.nanoseconds)) }
        return .nanoseconds(-Int64(clamping: rhs.nanoseconds - lhs.nanoseconds))
    }

    public var description: String { "Deadline(\(nanoseconds)ns)" }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `0...UInt64.max`.
    @inlinable
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let (secNanos, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, o2) = secNanos.addingReportingOverflow(UInt64(max(0, attoseconds / 1_000_000_000)))
        return o2 ? .max : sum
    }
}
