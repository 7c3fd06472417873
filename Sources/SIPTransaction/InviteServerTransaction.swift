/// The INVITE server transaction (RFC 3261 §17.2.1, Figure 7, as updated by
/// RFC 6026 §7.1 with the Accepted state and Timer L).
///
/// Created when a new INVITE arrives (state `proceeding`); the owner then feeds
/// `.start`, which emits `sendTrying` when `tryingPolicy == .immediately`. The
/// TU hands responses in with `.tuResponse(statusCode:)`; the owner keeps the
/// bytes of the most recent one and sends them on `sendResponse` /
/// `retransmitResponse` (`sendTrying` makes the 100 the most recent one).
///
/// Events handled per state (everything else is ignored, returning no actions):
/// - `proceeding`: `start` (once, only if nothing was sent) → `sendTrying` per
///   policy; `requestRetransmission` → resend the last provisional (nothing if
///   none sent yet); TU 1xx → send; TU 2xx → send, start L, `accepted`;
///   TU 300-699 → send, start G (unreliable) and H, `completed`;
///   `transportError` → inform TU, `terminated`.
/// - `completed`: `requestRetransmission` → resend final; `timer(.g)` → resend
///   final, restart G with min(2*G, T2); `ack` → cancel G/H, start I,
///   `confirmed`; `timer(.h)` → `timeout(.h)`, `terminated`;
///   `transportError` → inform TU, `terminated`.
/// - `confirmed`: `ack`, `requestRetransmission` → absorbed; `timer(.i)` → `terminated`.
/// - `accepted` (RFC 6026): `requestRetransmission` → absorbed; TU 2xx → send
///   (the TU/UAS retransmits 2xx, not this machine); `ack` → `passAck`;
///   `transportError` → inform TU (stays in `accepted`); `timer(.l)` → `terminated`.
/// - `terminated`: nothing.
///
/// With `reliable == true` Timer G is never started and Timer I is zero, so an
/// ACK in `completed` moves straight to `terminated`.
public struct InviteServerTransaction: TransactionMachine, Hashable {
    /// IST states (RFC 3261 Figure 7 plus RFC 6026 Accepted).
    public enum State: Sendable, Hashable {
        case proceeding, completed, confirmed, accepted, terminated
    }

    /// Whether the transaction itself sends 100 Trying on `.start`
    /// (RFC 3261 §17.2.1: required unless the TU answers within 200 ms).
    public enum TryingPolicy: Sendable, Hashable {
        /// Emit `sendTrying` on `.start` (what a stateful proxy normally does).
        case immediately
        /// The TU promises a response within 200 ms (or sends 100 itself via `.tuResponse(statusCode: 100)`).
        case leftToTU
    }

    /// Inputs to the IST.
    public enum Event: TransactionEvent, Hashable {
        /// The transaction was just created for a new INVITE.
        case start
        /// The INVITE was received again.
        case requestRetransmission
        /// The TU passes a response with this status code to send.
        case tuResponse(statusCode: Int)
        /// An ACK matching this transaction arrived (for a non-2xx final in
        /// `completed`, or an ACK for a 2xx seen in `accepted`).
        case ack
        /// A timer started by this machine fired.
        case timer(TransactionTimer)
        /// The transport failed to send a response.
        case transportError
    }

    /// Outputs of the IST.
    public enum Action: TransactionAction, Hashable {
        /// Build and send 100 Trying; it becomes the last (provisional) response.
        case sendTrying
        /// Send the response the TU just passed in; it becomes the last response.
        case sendResponse
        /// Resend the last response sent.
        case retransmitResponse
        /// Start or reset a timer.
        case startTimer(TransactionTimer, milliseconds: Int64)
        /// Cancel running timers.
        case cancelTimers(TimerSet)
        /// Pass the ACK (for a 2xx) up to the TU (RFC 6026 Accepted state).
        case passAck
        /// Timer H expired: the ACK never came; inform the TU.
        case timeout(TransactionTimer)
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

    public private(set) var state: State = .proceeding
    /// Timer values in use.
    public let settings: TimerSettings
    /// Whether the transport is reliable: no G retransmissions, I = 0.
    public let reliable: Bool
    /// Who sends 100 Trying.
    public let tryingPolicy: TryingPolicy
    /// Whether a provisional response (including 100 Trying) has been sent.
    public private(set) var sentProvisional = false
    private var started = false
    private var timerGInterval: Int64

    /// Creates an IST in `proceeding` (the INVITE has just been received).
    public init(settings: TimerSettings = .standard, reliable: Bool, tryingPolicy: TryingPolicy = .immediately) {
        self.settings = settings
        self.reliable = reliable
        self.tryingPolicy = tryingPolicy
        self.timerGInterval = settings.timerG
    }

    public var isTerminated: Bool { state == .terminated }

    public mutating func handle(_ event: Event) -> TransactionActions<Action> {
        var out = TransactionActions<Action>()
        switch (state, event) {
        case (.proceeding, .start) where !started:
            started = true
            if tryingPolicy == .immediately && !sentProvisional {
                sentProvisional = true
                out.append(.sendTrying)
            }

        case (.proceeding, .requestRetransmission) where sentProvisional:
            out.append(.retransmitResponse)

        case let (.proceeding, .tuResponse(code)):
            started = true
            switch code {
            case 100...199:
                sentProvisional = true
                out.append(.sendResponse)
            case 200...299:
                state = .accepted
                out.append(.sendResponse)
                out.append(.startTimer(.l, milliseconds: settings.timerL))
            case 300...699:
                state = .completed
                out.append(.sendResponse)
                if !reliable { out.append(.startTimer(.g, milliseconds: timerGInterval)) }
                out.append(.startTimer(.h, milliseconds: settings.timerH))
            default:
                break
            }

        case (.proceeding, .transportError), (.completed, .transportError):
            state = .terminated
            out.append(.transportError)
            out.append(.terminated)

        case (.completed, .requestRetransmission):
            out.append(.retransmitResponse)

        case (.completed, .timer(.g)) where !reliable:
            timerGInterval = settings.nextCappedInterval(after: timerGInterval)
            out.append(.retransmitResponse)
            out.append(.startTimer(.g, milliseconds: timerGInterval))

        case (.completed, .ack):
            out.append(.cancelTimers(reliable ? .h : [.g, .h]))
            let timerI = settings.timerI(reliable: reliable)
            if timerI > 0 {
                state = .confirmed
                out.append(.startTimer(.i, milliseconds: timerI))
            } else {
                state = .terminated
                out.append(.terminated)
            }

        case (.completed, .timer(.h)):
            state = .terminated
            out.append(.timeout(.h))
            out.append(.terminated)

        case (.confirmed, .timer(.i)):
            state = .terminated
            out.append(.terminated)

        case let (.accepted, .tuResponse(code)) where (200...299).contains(code):
            out.append(.sendResponse)

        case (.accepted, .ack):
            out.append(.passAck)

        case (.accepted, .transportError):
            out.append(.transportError)

        case (.accepted, .timer(.l)):
            state = .terminated
            out.append(.terminated)

        default:
            // Includes ACK / INVITE retransmissions absorbed in `confirmed` and
            // INVITE retransmissions absorbed in `accepted`.
            break
        }
        return out
    }
}
