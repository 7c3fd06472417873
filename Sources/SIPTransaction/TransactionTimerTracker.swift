/// Follows the timers of one transaction from its actions, without allocating.
///
/// Feed it every action list a machine returns (`apply(_:at:)`) with the
/// current time; it records starts (replacing a running instance of the same
/// timer), cancels, and clears everything on `terminated`. It then answers
/// which timers are active, when the next one is due, which are due at a given
/// time, and whether a `(timer, generation)` pair from an external timer wheel
/// is still current. It never reads a clock: times are the caller's
/// milliseconds.
public struct TransactionTimerTracker: Sendable {
    private struct Slot: Sendable {
        var deadline: Int64 = 0
        var generation: UInt64 = 0
    }

    private var slots: (Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot) =
        (Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot())
    /// The timers currently running.
    public private(set) var activeTimers = TimerSet()
    private var lastGeneration: UInt64 = 0

    /// An empty tracker.
    public init() {}

    private subscript(slot timer: TransactionTimer) -> Slot {
        get {
            switch timer {
            case .a: slots.0
            case .b: slots.1
            case .c: slots.2
            case .d: slots.3
            case .e: slots.4
            case .f: slots.5
            case .g: slots.6
            case .h: slots.7
            case .i: slots.8
            case .j: slots.9
            case .k: slots.10
            case .l: slots.11
            case .m: slots.12
            }
        }
        set {
            switch timer {
            case .a: slots.0 = newValue
            case .b: slots.1 = newValue
            case .c: slots.2 = newValue
            case .d: slots.3 = newValue
            case .e: slots.4 = newValue
            case .f: slots.5 = newValue
            case .g: slots.6 = newValue
            case .h: slots.7 = newValue
            case .i: slots.8 = newValue
            case .j: slots.9 = newValue
            case .k: slots.10 = newValue
            case .l: slots.11 = newValue
            case .m: slots.12 = newValue
            }
        }
    }

    /// Starts (or restarts) `timer` due at `now + milliseconds`.
    @discardableResult
    public mutating func start(_ timer: TransactionTimer, milliseconds: Int64, at now: Int64) -> ScheduledTimer {
        lastGeneration &+= 1
        let (deadline, overflow) = now.addingReportingOverflow(max(milliseconds, 0))
        let slot = Slot(deadline: overflow ? Int64.max : deadline, generation: lastGeneration)
        self[slot: timer] = slot
        activeTimers.insert(timer)
        return ScheduledTimer(timer: timer, deadline: slot.deadline, generation: slot.generation)
    }

    /// Cancels the timers in `timers` (inactive ones are ignored).
    public mutating func cancel(_ timers: TimerSet) {
        activeTimers = TimerSet(rawValue: activeTimers.rawValue & ~timers.rawValue)
    }

    /// Cancels every timer.
    public mutating func cancelAll() {
        activeTimers = TimerSet()
    }

    /// Records one action. Returns the scheduled timer if the action started one.
    @discardableResult
    public mutating func apply<Action: TransactionAction>(_ action: Action, at now: Int64) -> ScheduledTimer? {
        if action.isTermination {
            cancelAll()
            return nil
        }
        switch action.timerCommand {
        case let .start(timer, milliseconds)?:
            return start(timer, milliseconds: milliseconds, at: now)
        case let .cancel(timers)?:
            cancel(timers)
            return nil
        case nil:
            return nil
        }
    }

    /// Records every action of a list, in order.
    public mutating func apply<Action: TransactionAction>(_ actions: TransactionActions<Action>, at now: Int64) {
        for action in actions { apply(action, at: now) }
    }

    /// Whether `timer` is running.
    public func isActive(_ timer: TransactionTimer) -> Bool { activeTimers.contains(timer) }

    /// The running instance of `timer`, if any.
    public func scheduled(_ timer: TransactionTimer) -> ScheduledTimer? {
        guard activeTimers.contains(timer) else { return nil }
        let slot = self[slot: timer]
        return ScheduledTimer(timer: timer, deadline: slot.deadline, generation: slot.generation)
    }

    /// When `timer` is due, if it is running.
    public func deadline(of timer: TransactionTimer) -> Int64? { scheduled(timer)?.deadline }

    /// Whether `(timer, generation)` names the running instance of `timer`
    /// (false once it was cancelled, restarted, fired or the transaction ended).
    public func isCurrent(_ timer: TransactionTimer, generation: UInt64) -> Bool {
        activeTimers.contains(timer) && self[slot: timer].generation == generation
    }

    /// The earliest running timer (ties: the one started first).
    public var next: ScheduledTimer? {
        var best: ScheduledTimer?
        for timer in activeTimers {
            let slot = self[slot: timer]
            if let current = best,
               current.deadline < slot.deadline
                || (current.deadline == slot.deadline && current.generation < slot.generation) {
                continue
            }
            best = ScheduledTimer(timer: timer, deadline: slot.deadline, generation: slot.generation)
        }
        return best
    }

    /// The deadline of the earliest running timer.
    public var nextDeadline: Int64? { next?.deadline }

    /// The running timers due at `now` (deadline ≤ now).
    public func dueTimers(at now: Int64) -> TimerSet {
        var due = TimerSet()
        for timer in activeTimers where self[slot: timer].deadline <= now {
            due.insert(timer)
        }
        return due
    }

    /// Removes and returns the earliest timer due at `now`, marking it fired
    /// (inactive). Feed `.timer(result.timer)` to the machine afterwards.
    public mutating func popDue(at now: Int64) -> ScheduledTimer? {
        guard let first = next, first.deadline <= now else { return nil }
        activeTimers.remove(first.timer)
        return first
    }

    /// Marks `(timer, generation)` as fired if it is the running instance and
    /// returns whether it was: the gate for callbacks from an external timer
    /// wheel (a `false` result means the callback is stale and must be dropped).
    public mutating func fire(_ timer: TransactionTimer, generation: UInt64) -> Bool {
        guard isCurrent(timer, generation: generation) else { return false }
        activeTimers.remove(timer)
        return true
    }
}
