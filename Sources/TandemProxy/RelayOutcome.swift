/// What a `t_relay` came to, before it becomes the script's return code (``scriptCode``, the one place
/// where outcomes map to codes, following OpenSIPS's `t_relay` return codes).
public enum RelayOutcome: Sendable, Equatable {
    /// Sent statefully on a new branch, or forwarded statelessly (ACK, unmatched CANCEL).
    case relayed
    /// Another copy of the request already owns the transaction: this one was absorbed as a
    /// retransmission (the script stops).
    case absorbed
    /// The request cannot have a transaction (no method, no Via, an ACK…).
    case noTransaction
    /// Max-Forwards reached 0: 483 sent upstream.
    case tooManyHops
    /// The branch route dropped the branch.
    case droppedByBranchRoute
    /// The next hop's name is known not to resolve (a cached negative or failed answer): 503 sent upstream
    /// (not for ACK/CANCEL).
    case hostNameRefused
    /// No usable next hop (no $du, Route or Request-URI that gives an address).
    case noNextHop
    /// The transaction was cancelled or already has its final reply: no new branch.
    case transactionClosed
    /// A stateless forward could not be sent. (A stateful branch whose send fails is `relayed`: the
    /// branch fails with 503 through its client transaction, as an ICMP error would make it.)
    case sendFailed

    /// The script's return code, as OpenSIPS 3.6's `t_relay` documents its codes: 1 relayed, 0 absorbed
    /// (the script stops), -2 bad message, -3 no destination available (no branch added, or the
    /// request already cancelled), -4 bad destination (no address: a host name that is never looked
    /// up, or no usable next hop), -6 send failed, -1 for the rest (generic error: Max-Forwards
    /// exhausted, answered 483). -5 (destination filtered) has no cause in Tandem yet.
    public var scriptCode: Int32 {
        switch self {
        case .relayed: 1
        case .absorbed: 0
        case .tooManyHops: -1
        case .noTransaction: -2
        case .droppedByBranchRoute, .transactionClosed: -3
        case .hostNameRefused, .noNextHop: -4
        case .sendFailed: -6
        }
    }
}
