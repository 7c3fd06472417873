/// The RFC 3261 §17.2.3 server transaction matching key taken from a message's top Via and CSeq.
///
/// Only built for RFC 3261 branches (magic cookie); RFC 2543 matching, and mapping ACK/CANCEL to
/// the INVITE transaction, are left to the caller.
public struct TransactionKey: Sendable, Hashable, CustomStringConvertible {
    public var branch: String
    /// sent-by `host[:port]` of the top Via, host lowercased.
    public var sentBy: String
    public var method: SIPMethod

    public init(branch: String, sentBy: String, method: SIPMethod) {
        self.branch = branch
        self.sentBy = sentBy
        self.method = method
    }

    public var description: String { "\(branch)|\(sentBy)|\(method)" }
}

extension SIPMessage {
    /// Transaction key from the top Via branch, sent-by and the CSeq method; nil when the branch
    /// lacks the magic cookie or Via/CSeq do not parse.
    public func transactionKey() -> TransactionKey? {
        guard let via = try? topVia(), let b = via.branch, Branch.isRFC3261(b), let cs = try? cseq() else { return nil }
        let host = via.host.lowercased()
        return TransactionKey(branch: b, sentBy: via.port.map { "\(host):\($0)" } ?? host, method: cs.method)
    }
}
