/// RFC 3261 timer values (Table 4) in milliseconds, with the derived timer
/// durations each transaction machine uses.
///
/// Defaults: T1 = 500 ms, T2 = 4 s, T4 = 5 s, Timer D = 32 s (unreliable),
/// Timer C = 180 s (proxy INVITE client transactions), Timers B and F = 64*T1
/// unless a final-response timeout (tm `fr_timeout`) replaces them. Values are clamped in
/// `init` so that T1 ≥ 1 ms, T2 ≥ T1 and nothing is negative or large enough
/// to overflow `64 * T1`.
public struct TimerSettings: Sendable, Hashable {
    /// The values, in one shared immutable object: every transaction machine holds a copy of its
    /// settings, and they are the same few values (the configuration's, or a branch's `$T_fr_timeout`),
    /// so a machine carries one reference instead of six fields (issue 19: memory per suspended
    /// transaction).
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let t1: Int64
        @usableFromInline let t2: Int64
        @usableFromInline let t4: Int64
        @usableFromInline let unreliableTimerD: Int64
        @usableFromInline let timerC: Int64
        @usableFromInline let finalResponseTimeout: Int64?

        init(t1: Int64, t2: Int64, t4: Int64, unreliableTimerD: Int64, timerC: Int64, finalResponseTimeout: Int64?) {
            self.t1 = t1
            self.t2 = t2
            self.t4 = t4
            self.unreliableTimerD = unreliableTimerD
            self.timerC = timerC
            self.finalResponseTimeout = finalResponseTimeout
        }
    }

    @usableFromInline let storage: Storage

    /// RTT estimate; initial retransmit interval (ms).
    @inlinable public var t1: Int64 { storage.t1 }
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (ms).
    @inlinable public var t2: Int64 { storage.t2 }
    /// Maximum duration a message remains in the network (ms).
    @inlinable public var t4: Int64 { storage.t4 }
    /// Timer D for unreliable transports (ms); RFC 3261 requires at least 32 s.
    @inlinable public var unreliableTimerD: Int64 { storage.unreliableTimerD }
    /// Timer C for proxy INVITE client transactions (ms); RFC 3261 requires > 3 min.
    @inlinable public var timerC: Int64 { storage.timerC }
    /// Timers B and F (ms) when set: how long a client transaction waits for any reply before it
    /// times out (OpenSIPS tm `fr_timeout`). `nil` keeps RFC 3261's 64*T1.
    @inlinable public var finalResponseTimeout: Int64? { storage.finalResponseTimeout }

    /// Largest accepted T1: keeps `64 * T1` and doubling far from overflow.
    static let maximumT1: Int64 = Int64.max / 1024

    public init(
        t1: Int64 = 500,
        t2: Int64 = 4_000,
        t4: Int64 = 5_000,
        unreliableTimerD: Int64 = 32_000,
        timerC: Int64 = 180_000,
        finalResponseTimeout: Int64? = nil
    ) {
        let t1 = min(max(t1, 1), Self.maximumT1)
        storage = Storage(t1: t1, t2: min(max(t2, t1), Self.maximumT1), t4: min(max(t4, 0), Self.maximumT1),
                          unreliableTimerD: min(max(unreliableTimerD, 0), Self.maximumT1),
                          timerC: min(max(timerC, 1), Self.maximumT1),
                          finalResponseTimeout: finalResponseTimeout.map { min(max($0, 1), Self.maximumT1) })
    }

    /// RFC 3261 defaults.
    public static let standard = TimerSettings()

    public static func == (lhs: TimerSettings, rhs: TimerSettings) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.t1 == rhs.t1 && lhs.t2 == rhs.t2 && lhs.t4 == rhs.t4
                && lhs.unreliableTimerD == rhs.unreliableTimerD && lhs.timerC == rhs.timerC
                && lhs.finalResponseTimeout == rhs.finalResponseTimeout)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(t1)
        hasher.combine(t2)
        hasher.combine(t4)
        hasher.combine(unreliableTimerD)
        hasher.combine(timerC)
        hasher.combine(finalResponseTimeout)
    }

    /// 64*T1: the transaction timeout used by Timers H, J (unreliable), L and M, and by B and F unless
    /// ``finalResponseTimeout`` is set.
    @inlinable public var transactionTimeout: Int64 { 64 &* t1 }

    /// Initial Timer A (INVITE request retransmit), unreliable transports only.
    @inlinable public var timerA: Int64 { t1 }
    /// Timer B: INVITE client transaction timeout (no reply at all): ``finalResponseTimeout`` or 64*T1.
    @inlinable public var timerB: Int64 { finalResponseTimeout ?? transactionTimeout }
    /// Initial Timer E (non-INVITE request retransmit), unreliable transports only.
    @inlinable public var timerE: Int64 { t1 }
    /// Timer F: non-INVITE client transaction timeout: ``finalResponseTimeout`` or 64*T1.
    @inlinable public var timerF: Int64 { finalResponseTimeout ?? transactionTimeout }
    /// Initial Timer G (INVITE final response retransmit), unreliable transports only.
    @inlinable public var timerG: Int64 { t1 }
    /// Timer H: wait time for ACK receipt.
    @inlinable public var timerH: Int64 { transactionTimeout }
    /// Timer L (RFC 6026): INVITE server lingering in Accepted.
    @inlinable public var timerL: Int64 { transactionTimeout }
    /// Timer M (RFC 6026): INVITE client lingering in Accepted.
    @inlinable public var timerM: Int64 { transactionTimeout }

    /// Timer D: 32 s (configurable) for unreliable transports, 0 for reliable.
    @inlinable public func timerD(reliable: Bool) -> Int64 { reliable ? 0 : unreliableTimerD }
    /// Timer I: T4 for unreliable transports, 0 for reliable.
    @inlinable public func timerI(reliable: Bool) -> Int64 { reliable ? 0 : t4 }
    /// Timer J: 64*T1 for unreliable transports, 0 for reliable.
    @inlinable public func timerJ(reliable: Bool) -> Int64 { reliable ? 0 : transactionTimeout }
    /// Timer K: T4 for unreliable transports, 0 for reliable.
    @inlinable public func timerK(reliable: Bool) -> Int64 { reliable ? 0 : t4 }

    /// Next retransmit interval after `interval` for Timers E and G: doubled, capped at T2.
    @inlinable public func nextCappedInterval(after interval: Int64) -> Int64 {
        min(interval &* 2, t2)
    }

    /// Next Timer A interval: doubled without the T2 cap (RFC 3261 §17.1.1.2),
    /// bounded by Timer B only to keep the arithmetic finite.
    @inlinable public func nextInviteInterval(after interval: Int64) -> Int64 {
        min(interval &* 2, timerB)
    }
}
