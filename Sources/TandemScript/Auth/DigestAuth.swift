#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Digest computations (RFC 7616 §3.4.1–3.4.3) and signed nonces: a nonce carries its expiry and an
/// HMAC-SHA-256 over it keyed with the `auth` module's `secret`, so any worker or instance sharing the
/// secret verifies it without shared state, and an expired one is told apart (`stale=true`).
public enum DigestAuth {
    /// HA1 = H(username:realm:password).
    public static func ha1(_ algorithm: DigestAlgorithm, username: String, realm: String, password: String) -> String {
        algorithm.hash("\(username):\(realm):\(password)")
    }

    /// The expected `response` for credentials, given HA1, the request method and (for qop auth-int) body.
    public static func expectedResponse(_ credentials: DigestCredentials, ha1: String, method: String,
                                        body: [UInt8] = []) -> String {
        let algorithm = credentials.algorithm
        let ha2: String
        if credentials.qop?.lowercased() == "auth-int" {
            ha2 = algorithm.hash("\(method):\(credentials.uri):\(algorithm.hash(body))")
        } else {
            ha2 = algorithm.hash("\(method):\(credentials.uri)")
        }
        if let qop = credentials.qop, !qop.isEmpty {
            return algorithm.hash("\(ha1):\(credentials.nonce):\(credentials.nc ?? ""):\(credentials.cnonce ?? ""):\(qop):\(ha2)")
        }
        return algorithm.hash("\(ha1):\(credentials.nonce):\(ha2)")
    }

    /// What a nonce is worth.
    public enum NonceCheck: Sendable, Equatable {
        case valid
        /// Signed by us, but past its expiry.
        case stale
        /// Not one of ours (bad signature or format).
        case invalid
    }

    /// A nonce expiring at `expires` (seconds since the epoch): 8 hex digits of expiry, 8 of randomness,
    /// 32 of HMAC.
    public static func makeNonce(secret: String, expires: UInt64, random: UInt32 = UniqueRandom.next32()) -> String {
        var nonce: [UInt8] = []
        nonce.reserveCapacity(48)
        appendHex32(&nonce, UInt32(truncatingIfNeeded: expires))
        appendHex32(&nonce, random)
        let mac = nonceKey(secret).mac(nonce)
        for b in mac.prefix(16) { nonce.append(hexDigits[Int(b >> 4)]); nonce.append(hexDigits[Int(b & 15)]) }
        return String(decoding: nonce, as: UTF8.self)
    }

    /// Checks a nonce's signature and expiry at `now` (seconds since the epoch).
    public static func checkNonce(_ nonce: String, secret: String, now: UInt64) -> NonceCheck {
        let bytes = Array(nonce.utf8)
        guard bytes.count == 48 else { return .invalid }
        let mac = nonceKey(secret).mac(Array(bytes[..<16]))
        // Compared without stopping at the first difference; the expected text is lower-case hex.
        var difference: UInt8 = 0
        for i in 0..<16 {
            difference |= bytes[16 + 2 * i] ^ hexDigits[Int(mac[i] >> 4)]
            difference |= bytes[17 + 2 * i] ^ hexDigits[Int(mac[i] & 15)]
        }
        // A signed head is one makeNonce wrote: 8 lower-case hex digits of expiry first.
        guard difference == 0, let expires = parseHex(bytes[..<8]) else { return .invalid }
        return expires > now ? .valid : .stale
    }

    /// HMAC-SHA-256 (RFC 2104).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        SHA256.HMACKey(key).mac(message)
    }

    /// The HMAC key of the last secret nonces were signed with (a process has one in practice), so that
    /// its pad blocks are hashed once, not for every nonce.
    private static let lastNonceKey = Mutex<(secret: String, key: SHA256.HMACKey)?>(nil)

    static func nonceKey(_ secret: String) -> SHA256.HMACKey {
        if let key = lastNonceKey.withLock({ last in last.flatMap { $0.secret == secret ? $0.key : nil } }) {
            return key
        }
        let key = SHA256.HMACKey(Array(secret.utf8))
        lastNonceKey.withLock { $0 = (secret, key) }
        return key
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendHex32(_ out: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 28, through: 0, by: -4) { out.append(hexDigits[Int((value >> UInt32(shift)) & 15)]) }
    }

    /// Hex digits (either case) as a number; nil for anything else.
    private static func parseHex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for c in digits {
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 97...102: d = c - 87
            case 65...70: d = c - 55
            default: return nil
            }
            value = value << 4 | UInt64(d)
        }
        return value
    }

    /// Compares without stopping at the first difference.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Seconds since the epoch (nonces are shared between instances, so wall-clock time).
    public static func wallClockSeconds() -> UInt64 { UInt64(max(0, time(nil))) }

    /// The secret used when the script sets none: random per process (nonces then verify only here).
    public static let processSecret: String = hex((0..<16).map { _ in UInt8.random(in: 0...255) })
}
