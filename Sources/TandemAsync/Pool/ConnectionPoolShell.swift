import Reactor

/// The class around a ``ConnectionPoolStateMachine`` that owns one driver's connections on one worker
/// and makes its C calls (PostgreSQL's `PostgresPool`, LDAP's `LDAPConnectionPool`, and the next one).
///
/// What every such shell does the same way lives in this protocol's extension: feeding the machine an
/// event and executing its follow-up actions until there are none, and the text a request
/// gets when the pool fails it without asking the server. A shell only says how to execute one action
/// with its library. Package-internal: the drivers conform, nothing outside the package sees it.
///
/// ```swift
/// final class MySQLPool: ConnectionPoolShell {
///     var machine: ConnectionPoolStateMachine<MySQLRequest>
///     var now: Deadline { reactor.now }
///     func execute(_ action: ConnectionPoolStateMachine<MySQLRequest>.Action) { … }
/// }
/// ```
package protocol ConnectionPoolShell: AnyObject {
    /// The requests the pool queues and sends.
    associatedtype Request: ConnectionPoolRequest
    /// The pool's decisions (the shell feeds it events, executes its actions).
    var machine: ConnectionPoolStateMachine<Request> { get set }
    /// The owning worker's clock.
    var now: Deadline { get }
    /// Carries out one action of the machine with the driver's library.
    func execute(_ action: ConnectionPoolStateMachine<Request>.Action)
}

extension ConnectionPoolShell {
    /// Executes `first`, then the machine's follow-ups until there are none.
    package func run(_ first: ConnectionPoolStateMachine<Request>.Action) {
        var action = first
        while true {
            execute(action)
            action = machine.nextAction(now: now)
            if case .none = action { return }
        }
    }

    /// Feeds `event` to the machine and runs what it decides.
    package func feed(_ event: ConnectionPoolStateMachine<Request>.Event) {
        run(machine.handle(event, now: now))
    }

    /// The error text of a request the pool fails without the server (`driver`: "postgres", "ldap";
    /// `sendFailure`: the text when the connection could not send it), and whether it failed fast
    /// (shut down while waiting, or nothing connected during the reconnect delay).
    package static func failureText(_ failure: ConnectionPoolFailure, driver: String, sendFailure: String,
                                    lastConnectError: String) -> (message: String, failedFast: Bool) {
        switch failure {
        case .closed:
            return ("\(driver) pool is closed", false)
        case .shutdown:
            return ("\(driver) pool closed", true)
        case .notConnected(let retryInMs):
            return ("not connected (retry in \(retryInMs) ms): \(lastConnectError)", true)
        case .refused, .connectionLost:
            return (sendFailure, false)
        }
    }
}
