/// The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6). CANCEL is an
/// ordinary non-INVITE transaction.
///
/// The owner sends the request itself and then feeds `.start`.
///
/// Events handled per state (everything else is ignored, returning no actions):
/// - `idle`: `start` → `trying` (start E if unreliable, and F);
///   `transportError` → inform TU, `terminated`.
/// - `trying`: `timer(.e)` → retransmit, restart E with min(2*E, T2);
///   1xx → pass up, `proceeding` (E keeps running); 200-699 → cancel E/F,
///   start K, pass up, `completed`; `timer(.f)` → `timeout(.f)`, `terminated`;
///   `transportError` → inform TU, `terminated`.
/// - `proceeding`: `timer(.e)` → retransmit, restart E with T2; 1xx → pass up;
///   200-699 → as in `trying`; `timer(.f)`, `transportError` → as in `trying`.
/// - `completed`: any response (retransmission) → absorbed silently;
///   `timer(.k)` → `terminated`.
/// - `terminated`: nothing.
///
/// `responseHeld(statusCode:)` is a response the TU keeps for a while before it feeds it as
/// `response` (an `async()` in the proxy's `onreply_route`): the retransmissions stop now. In
/// `trying`/`proceeding`: 1xx → cancel E, `proceeding` (E restarts with T2 when a 1xx is passed
/// up); 200-699 → cancel E/F (the final is handled when it is fed).
///
/// With `reliable == true` Timer E is never started and Timer K is zero, so a
/// final response moves straight to `terminated`.
public struct NonInviteClientTransaction: TransactionMachine, Hashable {
    /// NICT states (RFC 3261 Figure 6; `idle` = not started).
    public enum State: Sendable, Hashable {
        case idle, trying, proceeding, completed, terminated
    }

    /// Inputs to the NICT.
    public enum Event: TransactionEvent, Hashable {
        /// The owner has just sent the request.
        case start
        /// A timer started by this machine fired.
        case timer(TransactionTimer)
        /// A response matching this transaction arrived.
        case response(statusCode: Int)
        /// A response arrived that the TU holds (it feeds it as `response` later): stop the
        /// retransmissions.
        case responseHeld(statusCode: Int)
        /// The transport failed to send the request.
        case transportError
    }

    /// Outputs of the NICT.
    public enum Action: TransactionAction, Hashable {
        /// Retransmit the request (same bytes as the original).
        case retransmitRequest
        /// Start or reset a timer.
        case startTimer(TransactionTimer, milliseconds: Int64)
        /// Cancel running timers.
        case cancelTimers(TimerSet)
        /// Pass this response up to the TU.
        case passResponse(statusCode: Int)
        /// Timer F expired: the TU treats it as a 408.
        case timeout(TransactionTimer)
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
    /// Whether the transport is reliable: no retransmissions, K = 0.
    public let reliable: Bool
    private var timerEInterval: Int64
    /// Timer E was stopped by a held provisional: it restarts when a 1xx is passed up.
    private var retransmissionsPaused = false

    /// Creates a NICT in `idle`; feed `.start` once the request has been sent.
    public init(settings: TimerSettings = .standard, reliable: Bool) {
        self.settings = settings
        self.reliable = reliable
        self.timerEInterval = settings.timerE
    }

    public var isTerminated: Bool { state == .terminated }

    public mutating func handle(_ event: Event) -> TransactionActions<Action> {
        var out = TransactionActions<Action>()
        switch (state, event) {
        case (.idle, .start):
            state = .trying
            if !reliable { out.append(.startTimer(.e, milliseconds: timerEInterval)) }
            out.append(.startTimer(.f, milliseconds: settings.timerF))

        case (.idle, .transportError), (.trying, .transportError), (.proceeding, .transportError):
            state = .terminated
            out.append(.transportError)
            out.append(.terminated)

        case (.trying, .timer(.e)) where !reliable:
            timerEInterval = settings.nextCappedInterval(after: timerEInterval)
            out.append(.retransmitRequest)
            out.append(.startTimer(.e, milliseconds: timerEInterval))

        case (.proceeding, .timer(.e)) where !reliable:
            timerEInterval = settings.t2
            out.append(.retransmitRequest)
            out.append(.startTimer(.e, milliseconds: timerEInterval))

        case (.trying, .timer(.f)), (.proceeding, .timer(.f)):
            state = .terminated
            out.append(.timeout(.f))
            out.append(.terminated)

        case let (.trying, .response(code)), let (.proceeding, .response(code)):
            switch code {
            case 100...199:
                state = .proceeding
                if retransmissionsPaused {
                    retransmissionsPaused = false
                    timerEInterval = settings.t2
                    out.append(.startTimer(.e, milliseconds: timerEInterval))
                }
                out.append(.passResponse(statusCode: code))
            case 200...699:
                retransmissionsPaused = false
                out.append(.cancelTimers(reliable ? .f : [.e, .f]))
                let timerK = settings.timerK(reliable: reliable)
                if timerK > 0 {
                    state = .completed
                    out.append(.startTimer(.k, milliseconds: timerK))
                    out.append(.passResponse(statusCode: code))
                } else {
                    state = .terminated
                    out.append(.passResponse(statusCode: code))
                    out.append(.terminated)
                }
            default:
                break
            }

        case let (.trying, .responseHeld(code)), let (.proceeding, .responseHeld(code)):
            switch code {
            case 100...199:
                state = .proceeding
                if !reliable && !retransmissionsPaused {
                    retransmissionsPaused = true
                    out.append(.cancelTimers(.e))
                }
            case 200...699:
                retransmissionsPaused = false  // a provisional passed up later does not restart E
                out.append(.cancelTimers(reliable ? .f : [.e, .f]))
            default:
                break
            }

        case (.completed, .timer(.k)):
            state = .terminated
            out.append(.terminated)

        default:
            // Includes response retransmissions in `completed` (absorbed).
            break
        }
        return out
    }
}
