/// The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8). CANCEL is an
/// ordinary non-INVITE transaction.
///
/// Created when a new request arrives (state `trying`). The TU hands responses
/// in with `.tuResponse(statusCode:)`; the owner keeps the bytes of the last one
/// and sends them on `sendResponse` / `retransmitResponse`.
///
/// Events handled per state (everything else is ignored, returning no actions):
/// - `trying`: `requestRetransmission` → discarded; TU 1xx → send, `proceeding`;
///   TU 200-699 → send, start J, `completed`.
/// - `proceeding`: `requestRetransmission` → resend last provisional;
///   TU 1xx → send; TU 200-699 → send, start J, `completed`;
///   `transportError` → inform TU, `terminated`.
/// - `completed`: `requestRetransmission` → resend final response;
///   `timer(.j)` → `terminated`; `transportError` → inform TU, `terminated`;
///   further TU responses are ignored.
/// - `terminated`: nothing.
///
/// With `reliable == true` Timer J is zero, so a final response moves straight
/// to `terminated`.
public struct NonInviteServerTransaction: TransactionMachine, Hashable {
    /// NIST states (RFC 3261 Figure 8).
    public enum State: Sendable, Hashable {
        case trying, proceeding, completed, terminated
    }

    /// Inputs to the NIST.
    public enum Event: TransactionEvent, Hashable {
        /// The request was received again.
        case requestRetransmission
        /// The TU passes a response with this status code to send.
        case tuResponse(statusCode: Int)
        /// A timer started by this machine fired.
        case timer(TransactionTimer)
        /// The transport failed to send a response.
        case transportError
    }

    /// Outputs of the NIST.
    public enum Action: TransactionAction, Hashable {
        /// Send the response the TU just passed in; it becomes the last response.
        case sendResponse
        /// Resend the last response sent.
        case retransmitResponse
        /// Start or reset a timer.
        case startTimer(TransactionTimer, milliseconds: Int64)
        /// Cancel running timers.
        case cancelTimers(TimerSet)
        /// The transport failed: inform the TU.
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

    public private(set) var state: State = .trying
    /// Timer values in use.
    public let settings: TimerSettings
    /// Whether the transport is reliable: J = 0.
    public let reliable: Bool

    /// Creates a NIST in `trying` (the request has just been received).
    public init(settings: TimerSettings = .standard, reliable: Bool) {
        self.settings = settings
        self.reliable = reliable
    }

    public var isTerminated: Bool { state == .terminated }

    public mutating func handle(_ event: Event) -> TransactionActions<Action> {
        var out = TransactionActions<Action>()
        switch (state, event) {
        case let (.trying, .tuResponse(code)), let (.proceeding, .tuResponse(code)):
            switch code {
            case 100...199:
                state = .proceeding
                out.append(.sendResponse)
            case 200...699:
                out.append(.sendResponse)
                let timerJ = settings.timerJ(reliable: reliable)
                if timerJ > 0 {
                    state = .completed
                    out.append(.startTimer(.j, milliseconds: timerJ))
                } else {
                    state = .terminated
                    out.append(.terminated)
                }
            default:
                break
            }

        case (.proceeding, .requestRetransmission), (.completed, .requestRetransmission):
            out.append(.retransmitResponse)

        case (.proceeding, .transportError), (.completed, .transportError):
            state = .terminated
            out.append(.transportError)
            out.append(.terminated)

        case (.completed, .timer(.j)):
            state = .terminated
            out.append(.terminated)

        default:
            break
        }
        return out
    }
}
