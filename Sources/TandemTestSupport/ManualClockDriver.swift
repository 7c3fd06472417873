import SIPTransaction

/// Test harness: a manual clock driving one machine. It records timers from
/// the machine's actions in a `TransactionTimerTracker`, and `advance(to:)`
/// fires due timers in deadline order, each at its own deadline.
public struct ManualClockDriver<Machine: TransactionMachine> {
    /// The machine under test.
    public var machine: Machine
    /// The timers its actions started.
    public var tracker = TransactionTimerTracker()
    /// The current time (ms).
    public private(set) var now: Int64 = 0
    /// Every action produced, with the time it was produced.
    public private(set) var log: [(time: Int64, action: Machine.Action)] = []

    /// Drives `machine` from time 0.
    public init(_ machine: Machine) { self.machine = machine }

    /// Feeds an event at the current time; returns its actions.
    @discardableResult
    public mutating func send(_ event: Machine.Event) -> [Machine.Action] {
        let actions = machine.handle(event)
        tracker.apply(actions, at: now)
        for action in actions { log.append((now, action)) }
        return Array(actions)
    }

    /// Advances the clock to `time` (ms), firing every timer due on the way.
    /// Returns the actions produced by those timers with their times.
    @discardableResult
    public mutating func advance(to time: Int64) -> [(time: Int64, action: Machine.Action)] {
        precondition(time >= now)
        var produced: [(time: Int64, action: Machine.Action)] = []
        while let due = tracker.popDue(at: time) {
            now = due.deadline
            let actions = machine.handle(.timer(due.timer))
            tracker.apply(actions, at: now)
            for action in actions {
                produced.append((now, action))
                log.append((now, action))
            }
        }
        now = time
        return produced
    }

    /// Advances the clock by `milliseconds`.
    @discardableResult
    public mutating func advance(by milliseconds: Int64) -> [(time: Int64, action: Machine.Action)] {
        advance(to: now + milliseconds)
    }

    /// Times (ms) in the log at which `action` was produced.
    public func times(of action: Machine.Action) -> [Int64] where Machine.Action: Equatable {
        log.filter { $0.action == action }.map(\.time)
    }
}
