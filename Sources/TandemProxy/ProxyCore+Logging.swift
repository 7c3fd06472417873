import Logging
import Synchronization
import Reactor
import SIPCore

/// Metadata for the proxy core's log lines. Only ever called inside a log call's `metadata:`
/// autoclosure, so nothing here runs when the level is disabled.
extension ProxyCore {
    /// Call-ID, branch, method and CSeq of `message` (whatever of them parses), and the peer address.
    static func metadata(for message: SIPMessage, peer: SocketAddress? = nil,
                         branch: String? = nil) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        if let callID = message.callID { metadata[LogMetadataKey.callID] = .string(callID) }
        if let branch = branch ?? (try? message.topVia())?.branch {
            metadata[LogMetadataKey.branch] = .string(branch)
        }
        if let method = message.method {
            metadata[LogMetadataKey.method] = .string(method.name)
        }
        if let cseq = try? message.cseq() {
            metadata[LogMetadataKey.cseq] = .stringConvertible(cseq.number)
            if message.method == nil { metadata[LogMetadataKey.method] = .string(cseq.method.name) }
        }
        if let peer { metadata[LogMetadataKey.peer] = .string("\(peer)") }
        return metadata
    }

    /// Call-ID (while the transaction still holds its request) and branch of a transaction.
    static func metadata(for txn: ProxyTransaction, state: ProxyTransaction.State) -> Logger.Metadata {
        var metadata: Logger.Metadata = [LogMetadataKey.branch: .string(txn.key.branch),
                                         LogMetadataKey.method: .string(txn.key.method.name)]
        if let callID = state.request?.callID ?? state.relayedRequest?.callID ?? state.suspended?.record.suspendedRequest.message.callID {
            metadata[LogMetadataKey.callID] = .string(callID)
        }
        return metadata
    }

    /// A transaction's metadata plus branch `index`'s next hop.
    static func metadata(for txn: ProxyTransaction, state: ProxyTransaction.State, branch index: Int,
                         status: Int? = nil) -> Logger.Metadata {
        var metadata = metadata(for: txn, state: state)
        if index < state.branches.count {
            metadata[LogMetadataKey.destination] = .string("\(state.branches[index].destination)")
        }
        if let status { metadata[LogMetadataKey.status] = .stringConvertible(status) }
        return metadata
    }

    /// Call-ID and branch of a transaction, taking its lock (not for use while the lock is held).
    static func metadata(for txn: ProxyTransaction) -> Logger.Metadata {
        txn.state.withLock { metadata(for: txn, state: $0) }
    }
}

extension ReplyContext {
    /// The branch of the server transaction the reply belongs to (for log lines).
    public var transactionBranch: String { transaction.key.branch }

    /// What the routing layer keeps with the reply's transaction (its AVPs), shared with the request side.
    public var transactionScriptState: (any Sendable)? {
        get { transaction.scriptState }
        set { transaction.scriptState = newValue }
    }
}

extension ProxyCore {
    /// A malformed request: what of it parses, who sent it and why it was rejected.
    static func badInputMetadata(_ message: SIPMessage, _ error: SIPParseError,
                                 _ peer: SocketAddress) -> Logger.Metadata {
        var metadata = metadata(for: message, peer: peer)
        metadata[LogMetadataKey.error] = .string("\(error.reason)")
        return metadata
    }
}
