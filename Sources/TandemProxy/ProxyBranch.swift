import Reactor
import SIPCore
import SIPTransaction

/// One client transaction of a proxy transaction: a copy of the request forwarded to one destination.
struct ProxyBranch: Sendable {
    /// The client transaction machine of a branch.
    enum Machine: Sendable {
        case invite(InviteClientTransaction)
        case nonInvite(NonInviteClientTransaction)
    }

    /// Whether and how this branch is being cancelled (RFC 3261 §9.1).
    enum Cancel: Sendable {
        case none
        /// CANCEL wanted, but no provisional response yet: send it when one arrives.
        case pending
        /// `local_route` runs on the CANCEL (outside the lock); it is sent when the route returns.
        case routing
        /// CANCEL sent; its own non-INVITE client transaction.
        case sent(NonInviteClientTransaction, bytes: [UInt8])
    }

    /// The branch parameter of our Via on this branch.
    let branchID: String
    var machine: Machine
    /// The serialized request as sent (retransmissions resend these bytes).
    var request: [UInt8]
    let destination: SocketAddress
    /// Index of the worker socket the branch is sent from.
    let socketIndex: Int
    var timers = TimerTokens()
    var cancelTimers = TimerTokens()
    var cancel: Cancel = .none
    /// Highest status seen (0: none).
    var status: Int = 0
    /// The final response (our Via removed) when it was not 2xx; kept for best-response selection.
    var finalResponse: [UInt8]?
    /// The hop-by-hop ACK for a non-2xx final response, built once.
    var ack: [UInt8]?
    /// True once the branch has a final outcome (final response, timeout or transport error).
    var isDone = false
    /// The other targets of the branch's DNS set (RFC 3263), tried in turn when it fails.
    var failover: Failover?

    /// What a DNS failover needs: the branch's request before our Via, and the targets left.
    struct Failover: Sendable {
        var message: SIPMessage
        var targets: [SocketAddress]
        /// The socket the request came in on: a target that needs another socket (another address
        /// family) gets the double Record-Route for it (`enable_double_rr`).
        var incoming: Int? = nil
        /// The next hop's transport (URI or DNS; nil: UDP) and the forced socket, if any.
        var transport: SIPTransport? = nil
        var forced: Int? = nil
    }

    /// The branch's flags (`setbflag`) as the branch route left them; a failure route sees them as `$bf`.
    var flags: UInt64 = 0

    var receivedProvisional: Bool { status >= 100 }
}
