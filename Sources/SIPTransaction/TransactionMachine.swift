/// An event type that can carry a timer expiry, so generic drivers can feed
/// `TransactionTimer`s into any machine. Each machine's `Event` enum satisfies
/// it with its `case timer(TransactionTimer)`.
public protocol TransactionEvent: Sendable {
    /// The event meaning "`timer` fired".
    static func timer(_ timer: TransactionTimer) -> Self
}

/// An action type whose timer commands and termination can be inspected
/// generically (by `TransactionTimerTracker`, test drivers, the proxy).
public protocol TransactionAction: Sendable {
    /// The timer start/cancel this action requests, if any.
    var timerCommand: TimerCommand? { get }
    /// Whether this action reports that the transaction is terminated; all its
    /// timers are then void and the owner may drop the machine.
    var isTermination: Bool { get }
}

/// A pure RFC 3261 §17 transaction state machine: events in, actions out.
/// No I/O, no clock, no message parsing.
public protocol TransactionMachine: Sendable {
    associatedtype State: Hashable & Sendable
    associatedtype Event: TransactionEvent
    associatedtype Action: TransactionAction

    /// The current state.
    var state: State { get }
    /// Whether the machine reached its Terminated state.
    var isTerminated: Bool { get }
    /// Feeds one event; returns the (possibly empty) actions to perform in order.
    /// Events that are irrelevant in the current state return no actions.
    mutating func handle(_ event: Event) -> TransactionActions<Action>
}
