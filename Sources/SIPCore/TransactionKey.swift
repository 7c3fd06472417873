/// The RFC 3261 §17.2.3 server transaction matching key taken from a message's top Via and CSeq.
///
/// Only built for RFC 3261 branches (magic cookie); RFC 2543 matching, and mapping ACK/CANCEL to
/// the INVITE transaction, are left to the caller.
public struct TransactionKey: Sendable, Hashable, CustomStringConvertible {
    /// The branch as stored: an RFC 3261 branch without its magic cookie, which every such branch
    /// starts with and which adds nothing to a match, so that a branch of up to 22 characters fits
    /// Swift's small-string storage and a transaction holds no heap string for it (issue 19: memory per
    /// suspended transaction). Any other branch (an RFC 2543 key; a cookie followed by NUL) is stored
    /// whole behind a NUL, which no stored cookie branch starts with: two keys are equal exactly when
    /// their full branches are. (One string, not an enum of two: that would take a byte more, and the
    /// key's stride in the transaction tables 8.)
    private var storedBranch: String

    private static let otherMark: Unicode.Scalar = "\u{0}"

    /// The top Via branch (RFC 3261), or the RFC 2543 stand-in the proxy builds.
    public var branch: String {
        get {
            if storedBranch.unicodeScalars.first == Self.otherMark { return String(storedBranch.unicodeScalars.dropFirst()) }
            return Branch.magicCookie + storedBranch
        }
        set { storedBranch = Self.store(newValue) }
    }
    /// sent-by `host[:port]` of the top Via, host lowercased.
    public var sentBy: String
    public var method: SIPMethod

    public init(branch: String, sentBy: String, method: SIPMethod) {
        self.storedBranch = Self.store(branch)
        self.sentBy = sentBy
        self.method = method
    }

    private static func store(_ branch: String) -> String {
        if Branch.isRFC3261(branch) {
            // The cookie is ASCII: its bytes are its scalars, and the rest starts on a scalar boundary.
            let rest = branch.utf8.dropFirst(Branch.magicCookie.utf8.count)
            if rest.first != 0, let text = String(rest) { return text }
        }
        var marked = String(otherMark)
        marked.append(branch)
        return marked
    }

    /// The same key for another method (an ACK's or CANCEL's key → its INVITE's).
    public func with(method: SIPMethod) -> TransactionKey {
        var key = self
        key.method = method
        return key
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
