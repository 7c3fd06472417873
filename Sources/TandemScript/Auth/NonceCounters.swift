import Synchronization

/// Replay protection for digest nonces (RFC 7616 §3.4.5, §5.7): the highest nonce count (`nc`) accepted
/// per nonce, kept until the nonce expires. A request whose `nc` is not above it — or, without qop, a
/// second use of the nonce — is a replay, unless it comes with the same request identity (Call-ID,
/// CSeq, top Via branch) as the accepted use: that is a retransmission of the same request over UDP
/// (a script that answers statelessly sees it again) and gets the same verdict as the original.
/// Per process: instances sharing a secret accept each other's nonces but count them separately.
public final class NonceCounters: Sendable {
    private struct Use {
        var nc: UInt64
        var expires: UInt64
        /// ``requestIdentity(callID:cseq:branch:)`` of the request that used `nc` (0: unknown).
        var request: Int
    }

    private final class Shard: Sendable {
        let table = Mutex<[String: Use]>([:])
    }

    private let shards: [Shard] = (0..<32).map { _ in Shard() }

    /// The table every auth call of the process uses.
    public static let shared = NonceCounters()

    public init() {}

    /// Records `nc` for `nonce` (valid until `expires`, seconds since the epoch) if it is above the last
    /// one accepted; false when it is a replay. `nc` nil (no qop): the nonce may be used once. The same
    /// `nc` again from the same `request` (``requestIdentity(callID:cseq:branch:)``, not 0) is a
    /// retransmission and accepted again.
    public func accept(nonce: String, nc: UInt64?, request: Int = 0, expires: UInt64, now: UInt64) -> Bool {
        var hasher = Hasher()
        hasher.combine(nonce)
        let shard = shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
        return shard.table.withLock { table in
            if table.count > 4_096 { table = table.filter { $0.value.expires > now } }
            let count = nc ?? 1
            if let last = table[nonce], last.expires > now, count <= last.nc {
                return count == last.nc && request != 0 && request == last.request
            }
            table[nonce] = Use(nc: count, expires: expires, request: request)
            return true
        }
    }

    /// What tells a retransmission from a new request (RFC 3261 §17.2.3): Call-ID, CSeq and the top Via
    /// branch. Never 0.
    public static func requestIdentity(callID: String, cseq: String, branch: String) -> Int {
        var hasher = Hasher()
        hasher.combine(callID)
        hasher.combine(cseq)
        hasher.combine(branch)
        let value = hasher.finalize()
        return value == 0 ? 1 : value
    }

    /// The expiry a nonce of ``DigestAuth/makeNonce(secret:expires:random:)`` carries.
    public static func expiry(of nonce: String) -> UInt64? { UInt64(nonce.prefix(8), radix: 16) }
}
