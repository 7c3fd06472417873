#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// MD5 (RFC 1321), for `{s.md5}`. Not for security: OpenSIPS scripts use it for keys and tags.
public enum MD5 {
    private static let shifts: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                           5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                                           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    /// floor(abs(sin(i + 1)) * 2^32).
    private static let table: [UInt32] = (0..<64).map { i in UInt32((sin(Double(i + 1))).magnitude * 4_294_967_296.0) }

    public static func digest(_ message: [UInt8]) -> [UInt8] {
        // Whole blocks straight from the message, then the padded tail: no copy of the message, and the
        // state and schedule on the stack (an MD5 runs per digest check: every authorized REGISTER).
        var state: InlineArray<4, UInt32> = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
        let whole = message.count - message.count % 64
        var offset = 0
        while offset < whole {
            compress(&state, message, offset)
            offset += 64
        }
        var tail = Array(message[whole...])
        tail.reserveCapacity(128)
        let bitLength = UInt64(message.count) &* 8
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in 0..<8 { tail.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        offset = 0
        while offset < tail.count {
            compress(&state, tail, offset)
            offset += 64
        }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for j in 0..<4 {
            let v = state[j]
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
        }
        return out
    }

    /// One 64-byte block of `m` at `o` into `state`.
    private static func compress(_ state: inout InlineArray<4, UInt32>, _ m: [UInt8], _ o: Int) {
        var w = InlineArray<16, UInt32>(repeating: 0)
        for i in 0..<16 {
            let b = o + 4 * i
            w[i] = UInt32(m[b]) | UInt32(m[b + 1]) << 8 | UInt32(m[b + 2]) << 16 | UInt32(m[b + 3]) << 24
        }
        var a = state[0], b = state[1], c = state[2], d = state[3]
        for i in 0..<64 {
            var f: UInt32
            let g: Int
            switch i {
            case 0..<16: f = (b & c) | (~b & d); g = i
            case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
            case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * i) % 16
            }
            f = f &+ a &+ table[i] &+ w[g]
            a = d; d = c; c = b
            b = b &+ (f << shifts[i] | f >> (32 - shifts[i]))
        }
        state[0] = state[0] &+ a; state[1] = state[1] &+ b; state[2] = state[2] &+ c; state[3] = state[3] &+ d
    }
}

/// Padding and big-endian length shared by SHA-1 and SHA-256.
private func shaPad(_ message: [UInt8]) -> [UInt8] {
    var m = message
    let bitLength = UInt64(message.count) &* 8
    m.append(0x80)
    while m.count % 64 != 56 { m.append(0) }
    for i in (0..<8).reversed() { m.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
    return m
}

private func bigEndianWord(_ m: [UInt8], _ o: Int) -> UInt32 {
    UInt32(m[o]) << 24 | UInt32(m[o + 1]) << 16 | UInt32(m[o + 2]) << 8 | UInt32(m[o + 3])
}

private func bigEndianBytes(_ words: [UInt32]) -> [UInt8] {
    var out: [UInt8] = []
    for v in words { for i in (0..<4).reversed() { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    return out
}

@inline(__always) private func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
@inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }

/// SHA-1 (FIPS 180-4), for `{s.sha1}`.
enum SHA1 {
    static func digest(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        let m = shaPad(message)
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: m.count, by: 64) {
            for i in 0..<16 { w[i] = bigEndianWord(m, chunk + 4 * i) }
            for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4]
            for i in 0..<80 {
                let f: UInt32, k: UInt32
                switch i {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A827999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC
                default: f = b ^ c ^ d; k = 0xCA62C1D6
                }
                let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
                e = d; d = c; c = rotl(b, 30); b = a; a = t
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d; h[4] = h[4] &+ e
        }
        return bigEndianBytes(h)
    }
}

/// SHA-256 (FIPS 180-4), for `{s.sha256}`.
public enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// The eight state words.
    typealias State = InlineArray<8, UInt32>

    static let initial: State = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                                 0x5be0cd19]

    public static func digest(_ message: [UInt8]) -> [UInt8] {
        var state = initial
        return finish(&state, message, before: 0)
    }

    /// Hashes `message` on from `state` (which has taken `before` bytes already, a multiple of 64) and
    /// returns the digest. Whole blocks are read from the message in place; state and schedule live on
    /// the stack (a nonce is signed and checked with this for every challenge and every answer).
    static func finish(_ state: inout State, _ message: [UInt8], before: Int) -> [UInt8] {
        let whole = message.count - message.count % 64
        var offset = 0
        while offset < whole {
            compress(&state, message, offset)
            offset += 64
        }
        var tail = Array(message[whole...])
        tail.reserveCapacity(128)
        let bitLength = UInt64(before + message.count) &* 8
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        offset = 0
        while offset < tail.count {
            compress(&state, tail, offset)
            offset += 64
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for j in 0..<8 {
            let v = state[j]
            for i in (0..<4).reversed() { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
        }
        return out
    }

    /// One 64-byte block of `m` at `o` into `state`.
    static func compress(_ state: inout State, _ m: [UInt8], _ o: Int) {
        var w = InlineArray<64, UInt32>(repeating: 0)
        for i in 0..<16 { w[i] = bigEndianWord(m, o + 4 * i) }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3]
        var e = state[4], f = state[5], g = state[6], hh = state[7]
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        state[0] = state[0] &+ a; state[1] = state[1] &+ b; state[2] = state[2] &+ c; state[3] = state[3] &+ d
        state[4] = state[4] &+ e; state[5] = state[5] &+ f; state[6] = state[6] &+ g; state[7] = state[7] &+ hh
    }

    /// An HMAC-SHA-256 key (RFC 2104) with its two pad blocks already hashed: an HMAC of a short
    /// message then costs two blocks instead of four.
    struct HMACKey: Sendable {
        let inner: State
        let outer: State

        init(_ key: [UInt8]) {
            var k = key.count > 64 ? SHA256.digest(key) : key
            k += [UInt8](repeating: 0, count: 64 - k.count)
            var inner = SHA256.initial, outer = SHA256.initial
            SHA256.compress(&inner, k.map { $0 ^ 0x36 }, 0)
            SHA256.compress(&outer, k.map { $0 ^ 0x5c }, 0)
            self.inner = inner
            self.outer = outer
        }

        func mac(_ message: [UInt8]) -> [UInt8] {
            var state = inner
            let innerDigest = SHA256.finish(&state, message, before: 64)
            state = outer
            return SHA256.finish(&state, innerDigest, before: 64)
        }
    }
}
