/// A set of `TransactionTimer`s stored as a 16-bit mask (no allocation).
///
/// Used by `cancelTimers` actions and by `TransactionTimerTracker` to report
/// which timers are active or due. Iterates in timer order (A, B, C, …).
public struct TimerSet: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// Bit `n` set means the timer with raw value `n` is in the set.
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The empty set.
    @inlinable
    public init() { self.rawValue = 0 }

    /// A set holding exactly `timer`.
    @inlinable
    public init(_ timer: TransactionTimer) { self.rawValue = Self.bit(timer) }

    @inlinable
    public init(arrayLiteral timers: TransactionTimer...) {
        self.rawValue = 0
        for timer in timers { insert(timer) }
    }

    @inlinable
    static func bit(_ timer: TransactionTimer) -> UInt16 { 1 &<< UInt16(timer.rawValue) }

    public static let a = TimerSet(.a)
    public static let b = TimerSet(.b)
    public static let c = TimerSet(.c)
    public static let d = TimerSet(.d)
    public static let e = TimerSet(.e)
    public static let f = TimerSet(.f)
    public static let g = TimerSet(.g)
    public static let h = TimerSet(.h)
    public static let i = TimerSet(.i)
    public static let j = TimerSet(.j)
    public static let k = TimerSet(.k)
    public static let l = TimerSet(.l)
    public static let m = TimerSet(.m)

    /// Whether `timer` is in the set.
    @inlinable
    public func contains(_ timer: TransactionTimer) -> Bool { rawValue & Self.bit(timer) != 0 }

    /// Adds `timer`.
    @inlinable
    public mutating func insert(_ timer: TransactionTimer) { rawValue |= Self.bit(timer) }

    /// Removes `timer`.
    @inlinable
    public mutating func remove(_ timer: TransactionTimer) { rawValue &= ~Self.bit(timer) }

    /// The timers in either set.
    @inlinable
    public func union(_ other: TimerSet) -> TimerSet { TimerSet(rawValue: rawValue | other.rawValue) }

    /// Whether the set is empty.
    @inlinable
    public var isEmpty: Bool { rawValue == 0 }

    /// Number of timers in the set.
    @inlinable
    public var count: Int { rawValue.nonzeroBitCount }

    @inlinable
    public var underestimatedCount: Int { count }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(remaining: rawValue) }

    /// Iterates the timers of a `TimerSet` from lowest (A) to highest (M).
    public struct Iterator: IteratorProtocol, Sendable {
        @usableFromInline var remaining: UInt16

        @inlinable init(remaining: UInt16) { self.remaining = remaining }

        @inlinable
        public mutating func next() -> TransactionTimer? {
            guard remaining != 0 else { return nil }
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining &- 1
            return TransactionTimer(rawValue: UInt8(truncatingIfNeeded: bit))
        }
    }

    public var description: String {
        var text = "["
        var first = true
        for timer in self {
            if !first { text += ", " }
            first = false
            text.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "A") &+ timer.rawValue))
        }
        return text + "]"
    }
}
