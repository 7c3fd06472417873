import SIPTransaction

/// What a transaction timer does when it fires: feed the server machine, or the client machine of a
/// branch (or of its CANCEL). Carried by value in the ``TransactionTimerEvent`` that schedules it.
enum TransactionTimerTarget {
    case server(TransactionTimer, token: UInt32)
    case client(branch: Int, cancel: Bool, TransactionTimer, token: UInt32)
}
