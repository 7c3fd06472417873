import SIPTransaction

/// Inputs to a server transaction, common to the INVITE and non-INVITE machines.
enum ServerEvent {
    case start
    case retransmission
    case response(status: Int)
    case ack
    case timer(TransactionTimer)
    case transportError
}

/// Outputs of a server transaction, common to both machines.
enum ServerEffect {
    case sendTrying
    case sendResponse
    case retransmitResponse
    case startTimer(TransactionTimer, milliseconds: Int64)
    case cancelTimers(TimerSet)
    case passAck
    case timeout
    case transportError
    case terminated
}

/// Inputs to a client transaction (a branch, or the CANCEL sent on it).
enum ClientEvent {
    case start
    case response(status: Int)
    /// A reply the core holds (async() in onreply_route): stop retransmitting, ACK a negative final.
    case responseHeld(status: Int)
    case timer(TransactionTimer)
    case transportError
}

/// Outputs of a client transaction, common to both machines.
enum ClientEffect {
    case retransmitRequest
    case sendAck
    case startTimer(TransactionTimer, milliseconds: Int64)
    case cancelTimers(TimerSet)
    case passResponse(status: Int)
    case timeout
    case timerCExpired
    case transportError
    case terminated
}

extension ProxyTransaction.ServerMachine {
    /// Feeds `event` to the machine and reports each resulting effect to `effect`.
    mutating func handle(_ event: ServerEvent, _ effect: (ServerEffect) -> Void) {
        switch self {
        case .invite(var machine):
            let actions: TransactionActions<InviteServerTransaction.Action>
            switch event {
            case .start: actions = machine.handle(.start)
            case .retransmission: actions = machine.handle(.requestRetransmission)
            case .response(let status): actions = machine.handle(.tuResponse(statusCode: status))
            case .ack: actions = machine.handle(.ack)
            case .timer(let timer): actions = machine.handle(.timer(timer))
            case .transportError: actions = machine.handle(.transportError)
            }
            self = .invite(machine)
            for action in actions {
                switch action {
                case .sendTrying: effect(.sendTrying)
                case .sendResponse: effect(.sendResponse)
                case .retransmitResponse: effect(.retransmitResponse)
                case let .startTimer(timer, ms): effect(.startTimer(timer, milliseconds: ms))
                case .cancelTimers(let set): effect(.cancelTimers(set))
                case .passAck: effect(.passAck)
                case .timeout: effect(.timeout)
                case .transportError: effect(.transportError)
                case .terminated: effect(.terminated)
                }
            }
        case .nonInvite(var machine):
            let actions: TransactionActions<NonInviteServerTransaction.Action>
            switch event {
            case .start, .ack: return
            case .retransmission: actions = machine.handle(.requestRetransmission)
            case .response(let status): actions = machine.handle(.tuResponse(statusCode: status))
            case .timer(let timer): actions = machine.handle(.timer(timer))
            case .transportError: actions = machine.handle(.transportError)
            }
            self = .nonInvite(machine)
            for action in actions {
                switch action {
                case .sendResponse: effect(.sendResponse)
                case .retransmitResponse: effect(.retransmitResponse)
                case let .startTimer(timer, ms): effect(.startTimer(timer, milliseconds: ms))
                case .cancelTimers(let set): effect(.cancelTimers(set))
                case .transportError: effect(.transportError)
                case .terminated: effect(.terminated)
                }
            }
        }
    }
}

extension ProxyBranch.Machine {
    /// Feeds `event` to the machine and reports each resulting effect to `effect`.
    mutating func handle(_ event: ClientEvent, _ effect: (ClientEffect) -> Void) {
        switch self {
        case .invite(var machine):
            let actions: TransactionActions<InviteClientTransaction.Action>
            switch event {
            case .start: actions = machine.handle(.start)
            case .response(let status): actions = machine.handle(.response(statusCode: status))
            case .responseHeld(let status): actions = machine.handle(.responseHeld(statusCode: status))
            case .timer(let timer): actions = machine.handle(.timer(timer))
            case .transportError: actions = machine.handle(.transportError)
            }
            self = .invite(machine)
            for action in actions { effect(ClientEffect(action)) }
        case .nonInvite(var machine):
            let actions = machine.handle(event.nonInvite)
            self = .nonInvite(machine)
            for action in actions { effect(ClientEffect(action)) }
        }
    }
}

extension NonInviteClientTransaction {
    /// Feeds `event` and reports each effect (used for the CANCEL of a branch).
    mutating func handle(_ event: ClientEvent, _ effect: (ClientEffect) -> Void) {
        for action in handle(event.nonInvite) { effect(ClientEffect(action)) }
    }
}

extension ClientEvent {
    var nonInvite: NonInviteClientTransaction.Event {
        switch self {
        case .start: .start
        case .response(let status): .response(statusCode: status)
        case .responseHeld(let status): .responseHeld(statusCode: status)
        case .timer(let timer): .timer(timer)
        case .transportError: .transportError
        }
    }
}

extension ClientEffect {
    init(_ action: InviteClientTransaction.Action) {
        switch action {
        case .retransmitRequest: self = .retransmitRequest
        case .sendAck: self = .sendAck
        case let .startTimer(timer, ms): self = .startTimer(timer, milliseconds: ms)
        case .cancelTimers(let set): self = .cancelTimers(set)
        case .passResponse(let status): self = .passResponse(status: status)
        case .timeout: self = .timeout
        case .timerCExpired: self = .timerCExpired
        case .transportError: self = .transportError
        case .terminated: self = .terminated
        }
    }

    init(_ action: NonInviteClientTransaction.Action) {
        switch action {
        case .retransmitRequest: self = .retransmitRequest
        case let .startTimer(timer, ms): self = .startTimer(timer, milliseconds: ms)
        case .cancelTimers(let set): self = .cancelTimers(set)
        case .passResponse(let status): self = .passResponse(status: status)
        case .timeout: self = .timeout
        case .transportError: self = .transportError
        case .terminated: self = .terminated
        }
    }
}
