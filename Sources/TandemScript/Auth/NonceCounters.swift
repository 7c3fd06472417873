import Synchronization

/// Replay protection for digest nonces (RFC 7616 §3.4.5, §5.7): the highest nonce count (`nc`) accepted
/// per nonce, kept until the nonce expires. A request whose `nc` is not above it — or, without qop, a
/// second use of the nonce — is a replay. Per process: instances sharing a secret accept each other's
/// nonces but count them separately.
public final class NonceCounters: Sendable {
    private final class Shard: Sendable {
        let table = Mutex<[String: (nc: UInt64, expires: UInt64)]>([:])
    }

    private let shards: [Shard] = (0..<32).map { _ in Shard() }

    /// The table every auth call of the process uses.
    public static let shared = NonceCounters()

    public init() {}

    /// Records `nc` for `nonce` (valid until `expires`, seconds since the epoch) if it is above the last
    /// one accepted; false when it is a replay. `nc` nil (no qop): the nonce may be used once.
    public func accept(nonce: String, nc: UInt64?, expires: UInt64, now: UInt64) -> Bool {
        var hasher = Hasher()
        hasher.combine(nonce)
        let shard = shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
        return shard.table.withLock { table in
            if table.count > 4_096 { table = table.filter { $0.value.expires > now } }
            let count = nc ?? 1
            if let last = table[nonce], last.expires > now, count <= last.nc { return false }
            table[nonce] = (count, expires)
            return true
        }
    }

    /// The expiry a nonce of ``DigestAuth/makeNonce(secret:expires:random:)`` carries.
    public static func expiry(of nonce: String) -> UInt64? { UInt64(nonce.prefix(8), radix: 16) }
}
