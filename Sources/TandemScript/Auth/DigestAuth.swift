#if canImport(Glibc)
import Glibc
#endif

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
    public static func makeNonce(secret: String, expires: UInt64, random: UInt32 = UInt32.random(in: 0...UInt32.max)) -> String {
        let head = hex32(UInt32(truncatingIfNeeded: expires)) + hex32(random)
        return head + String(hex(hmacSHA256(key: Array(secret.utf8), message: Array(head.utf8))).prefix(32))
    }

    /// Checks a nonce's signature and expiry at `now` (seconds since the epoch).
    public static func checkNonce(_ nonce: String, secret: String, now: UInt64) -> NonceCheck {
        guard nonce.utf8.count == 48 else { return .invalid }
        let head = String(nonce.prefix(16))
        let mac = String(nonce.dropFirst(16))
        let expected = String(hex(hmacSHA256(key: Array(secret.utf8), message: Array(head.utf8))).prefix(32))
        guard constantTimeEqual(mac, expected), let expires = UInt64(head.prefix(8), radix: 16) else { return .invalid }
        return expires > now ? .valid : .stale
    }

    /// HMAC-SHA-256 (RFC 2104).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? SHA256.digest(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = SHA256.digest(k.map { $0 ^ 0x36 } + message)
        return SHA256.digest(k.map { $0 ^ 0x5c } + inner)
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

    static func hex32(_ value: UInt32) -> String {
        var text = String(value, radix: 16)
        while text.count < 8 { text = "0" + text }
        return text
    }

    /// Seconds since the epoch (nonces are shared between instances, so wall-clock time).
    public static func wallClockSeconds() -> UInt64 { UInt64(max(0, time(nil))) }

    /// The secret used when the script sets none: random per process (nonces then verify only here).
    public static let processSecret: String = hex((0..<16).map { _ in UInt8.random(in: 0...255) })
}
