/// The INVITE client transaction (RFC 3261 §17.1.1, Figure 5, as updated by
/// RFC 6026 §7.2 with the Accepted state and Timer M), optionally with the
/// proxy's Timer C (RFC 3261 §16.6 step 11, §16.7 step 2, §16.8).
///
/// The owner sends the INVITE itself and then feeds `.start`; it feeds every
/// response matched to this transaction as `.response(statusCode:)`, timer
/// expiries as `.timer(_:)`, and send failures as `.transportError`.
///
/// Events handled per state (everything else is ignored, returning no actions):
/// - `idle`: `start` → `calling` (start A if unreliable, B, and C if enabled);
///   `transportError` → inform TU, `terminated`.
/// - `calling`: `timer(.a)` → retransmit, restart A with doubled interval;
///   `timer(.b)` → `timeout(.b)`, `terminated`; `timer(.c)` → `timeout(.c)`,
///   `terminated` (no provisional yet: behave as 408); 1xx → cancel A/B, reset C
///   for 101-199, pass up, `proceeding`; 2xx → cancel A/B/C, start M, pass up,
///   `accepted`; 300-699 → send ACK, cancel A/B/C, start D, pass up, `completed`;
///   `transportError` → inform TU, `terminated`.
/// - `proceeding`: 1xx → pass up (101-199 reset C unless C already fired);
///   2xx → cancel C, start M, pass up, `accepted`; 300-699 → send ACK, cancel C,
///   start D, pass up, `completed`; first `timer(.c)` → `timerCExpired` (TU sends
///   CANCEL) and restart C with 64*T1 grace; second `timer(.c)` → `timeout(.c)`,
///   `terminated`.
/// - `completed`: 300-699 (retransmission) → resend ACK only;
///   `timer(.d)` → `terminated`; `transportError` → inform TU, `terminated`.
/// - `accepted`: 2xx → pass up (every 2xx, RFC 6026); `timer(.m)` → `terminated`.
/// - `terminated`: nothing.
///
/// `responseHeld(statusCode:)` is a response the TU keeps for a while before it feeds it as
/// `response` (an `async()` in the proxy's `onreply_route`): the next hop must stop
/// retransmitting now. In `calling`/`proceeding`: 1xx → cancel A/B, `proceeding` (nothing passed
/// up, C untouched); 2xx → cancel A/B/C; 300-699 → send ACK at once, cancel A/B/C (the state is
/// left when the response is fed, without a second ACK). In `completed`, a 300-699 resends the ACK.
///
/// With `reliable == true` Timer A is never started and Timer D is zero, so a
/// non-2xx final response moves straight to `terminated` (no timer action).
public struct InviteClientTransaction: TransactionMachine, Hashable {
    /// ICT states (RFC 3261 Figure 5 plus RFC 6026 Accepted; `idle` = not started).
    public enum State: Sendable, Hashable {
        case idle, calling, proceeding, completed, accepted, terminated
    }

    /// Inputs to the ICT.
    public enum Event: TransactionEvent, Hashable {
        /// The owner has just sent the initial INVITE.
        case start
        /// A timer started by this machine fired.
        case timer(TransactionTimer)
        /// A response matching this transaction arrived.
        case response(statusCode: Int)
        /// A response arrived that the TU holds (it feeds it as `response` later): stop the
        /// retransmissions, and ACK a 300-699 at once.
        case responseHeld(statusCode: Int)
        /// The transport failed to send the request or ACK.
        case transportError
    }

    /// Outputs of the ICT.
    public enum Action: TransactionAction, Hashable {
        /// Retransmit the INVITE (same bytes as the original).
        case retransmitRequest
        /// Send (or resend) the hop-by-hop ACK for the non-2xx final response;
        /// the owner builds and keeps its bytes.
        case sendAck
        /// Start or reset a timer.
        case startTimer(TransactionTimer, milliseconds: Int64)
        /// Cancel running timers.
        case cancelTimers(TimerSet)
        /// Pass this response up to the TU.
        case passResponse(statusCode: Int)
        /// Timer B or C (no provisional) expired: the TU treats it as a 408.
        case timeout(TransactionTimer)
        /// Timer C fired after a provisional response: the TU should CANCEL.
        case timerCExpired
        /// The transport failed: the TU treats it as a 503.
        case transportError
        /// The transaction is over; its timers are void.
        case terminated

        public var timerCommand: TimerCommand? {
            switch self {
            case let .startTimer(timer, milliseconds): .start(timer, milliseconds: milliseconds)
            case let .cancelTimers(set): .cancel(set)
            default: nil
            }
        }

        public var isTermination: Bool { self == .terminated }
    }

    public private(set) var state: State = .idle
    /// Timer values in use.
    public let settings: TimerSettings
    /// Whether the transport is reliable (TCP/TLS/SCTP): no retransmissions, D = 0.
    public let reliable: Bool
    /// Whether the proxy Timer C runs in this transaction. As OpenSIPS tm's `fr_inv_timeout`, it starts
    /// at the first provisional response: until then Timer B (`fr_timeout`) alone bounds the wait.
    public let usesTimerC: Bool
    /// Whether any provisional response was received.
    public private(set) var receivedProvisional = false
    /// Whether Timer C has fired once (CANCEL grace period running).
    public private(set) var timerCFired = false
    private var timerAInterval: Int64
    /// The 300-699 status already ACKed while held (its `response` then sends no second ACK).
    private var heldFinalAcked = 0

    /// Creates an ICT in `idle`; feed `.start` once the INVITE has been sent.
    public init(settings: TimerSettings = .standard, reliable: Bool, usesTimerC: Bool = false) {
        self.settings = settings
        self.reliable = reliable
        self.usesTimerC = usesTimerC
        self.timerAInterval = settings.timerA
    }

    public var isTerminated: Bool { state == .terminated }

    /// Timers that may run in `calling` (Timer C only starts with the first provisional).
    private var callingTimers: TimerSet {
        var set: TimerSet = .b
        if !reliable { set.insert(.a) }
        return set
    }

    public mutating func handle(_ event: Event) -> TransactionActions<Action> {
        var out = TransactionActions<Action>()
        switch (state, event) {
        case (.idle, .start):
            state = .calling
            if !reliable { out.append(.startTimer(.a, milliseconds: timerAInterval)) }
            out.append(.startTimer(.b, milliseconds: settings.timerB))

        case (.idle, .transportError), (.calling, .transportError), (.completed, .transportError):
            state = .terminated
            out.append(.transportError)
            out.append(.terminated)

        case (.calling, .timer(.a)) where !reliable:
            timerAInterval = settings.nextInviteInterval(after: timerAInterval)
            out.append(.retransmitRequest)
            out.append(.startTimer(.a, milliseconds: timerAInterval))

        case (.calling, .timer(.b)):
            state = .terminated
            out.append(.timeout(.b))
            out.append(.terminated)

        case (.calling, .timer(.c)) where usesTimerC:
            state = .terminated
            out.append(.timeout(.c))
            out.append(.terminated)

        case let (.calling, .response(code)):
            switch code {
            case 100...199:
                state = .proceeding
                receivedProvisional = true
                out.append(.cancelTimers(reliable ? .b : [.a, .b]))
                // The first provisional (a 100 too) starts C; later ones other than 100 restart it.
                if usesTimerC { out.append(.startTimer(.c, milliseconds: settings.timerC)) }
                out.append(.passResponse(statusCode: code))
            case 200...299:
                enterAccepted(code, cancelling: callingTimers, into: &out)
            case 300...699:
                enterCompleted(code, cancelling: callingTimers, into: &out)
            default:
                break
            }

        case let (.proceeding, .response(code)):
            switch code {
            case 100...199:
                if usesTimerC && code != 100 && !timerCFired {
                    out.append(.startTimer(.c, milliseconds: settings.timerC))
                }
                out.append(.passResponse(statusCode: code))
            case 200...299:
                enterAccepted(code, cancelling: usesTimerC ? .c : [], into: &out)
            case 300...699:
                enterCompleted(code, cancelling: usesTimerC ? .c : [], into: &out)
            default:
                break
            }

        case (.proceeding, .timer(.c)) where usesTimerC:
            if timerCFired {
                state = .terminated
                out.append(.timeout(.c))
                out.append(.terminated)
            } else {
                timerCFired = true
                out.append(.startTimer(.c, milliseconds: settings.transactionTimeout))
                out.append(.timerCExpired)
            }

        case let (.calling, .responseHeld(code)), let (.proceeding, .responseHeld(code)):
            switch code {
            case 100...199:
                if state == .calling {
                    state = .proceeding
                    receivedProvisional = true
                    out.append(.cancelTimers(reliable ? .b : [.a, .b]))
                    if usesTimerC { out.append(.startTimer(.c, milliseconds: settings.timerC)) }
                }
            case 200...299:
                let timers = state == .calling ? callingTimers : (usesTimerC ? TimerSet.c : [])
                if !timers.isEmpty { out.append(.cancelTimers(timers)) }
            case 300...699:
                out.append(.sendAck)
                if heldFinalAcked == code { break }  // a retransmission: the timers are stopped already
                heldFinalAcked = code
                let timers = state == .calling ? callingTimers : (usesTimerC ? TimerSet.c : [])
                if !timers.isEmpty { out.append(.cancelTimers(timers)) }
            default:
                break
            }

        case let (.completed, .response(code)) where (300...699).contains(code),
             let (.completed, .responseHeld(code)) where (300...699).contains(code):
            out.append(.sendAck)

        case (.completed, .timer(.d)):
            state = .terminated
            out.append(.terminated)

        case let (.accepted, .response(code)) where (200...299).contains(code):
            out.append(.passResponse(statusCode: code))

        case (.accepted, .timer(.m)):
            state = .terminated
            out.append(.terminated)

        default:
            break
        }
        return out
    }

    private mutating func enterAccepted(_ code: Int, cancelling timers: TimerSet, into out: inout TransactionActions<Action>) {
        state = .accepted
        if !timers.isEmpty { out.append(.cancelTimers(timers)) }
        out.append(.startTimer(.m, milliseconds: settings.timerM))
        out.append(.passResponse(statusCode: code))
    }

    private mutating func enterCompleted(_ code: Int, cancelling timers: TimerSet, into out: inout TransactionActions<Action>) {
        // A final held by the TU was ACKed when it arrived.
        if heldFinalAcked != code { out.append(.sendAck) }
        heldFinalAcked = 0
        if !timers.isEmpty { out.append(.cancelTimers(timers)) }
        let timerD = settings.timerD(reliable: reliable)
        if timerD > 0 {
            state = .completed
            out.append(.startTimer(.d, milliseconds: timerD))
            out.append(.passResponse(statusCode: code))
        } else {
            // Reliable transport: Timer D is zero, Completed is left at once.
            state = .terminated
            out.append(.passResponse(statusCode: code))
            out.append(.terminated)
        }
    }
}
