import Synchronization

/// RFC 3261 §8.1.1.7 branch parameters: generation and magic-cookie check.
public enum Branch {
    /// The RFC 3261 magic cookie.
    public static let magicCookie = "z9hG4bK"

    /// Process-wide counter; combined with a random per-process salt for uniqueness.
    private static let counter = Atomic<UInt64>(0)
    private static let salt: UInt64 = UInt64.random(in: 1...UInt64.max)

    /// A new unique branch: `z9hG4bK` + 16 hex digits (salted counter, mixed). No syscalls, no locks.
    public static func generate() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return cookieHex16(mix(n &+ salt) ^ salt)
    }

    /// A branch derived deterministically from a key (e.g. for stateless forwarding or CANCEL):
    /// same key, same branch.
    public static func derived(from key: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return cookieHex16(mix(h))
    }

    /// True if `branch` starts with the magic cookie (exact case, per RFC 3261).
    public static func isRFC3261(_ branch: String) -> Bool {
        branch.utf8.starts(with: magicCookie.utf8)
    }

    /// SplitMix64 finalizer.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e3779b97f4a7c15
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }

    /// `magicCookie` and the 16 lowercase hex digits of `v`, written at once into one 23-byte string (a
    /// 16-digit string joined to the cookie took two allocations).
    @inline(__always) static func cookieHex16(_ v: UInt64) -> String {
        let digits: StaticString = "0123456789abcdef"
        let cookie: StaticString = "z9hG4bK"
        return String(unsafeUninitializedCapacity: 23) { buf in
            cookie.withUTF8Buffer { c in
                for i in 0..<7 { buf[i] = c[i] }
            }
            digits.withUTF8Buffer { d in
                for i in 0..<16 { buf[7 + i] = d[Int((v >> UInt64(60 - 4 * i)) & 15)] }
            }
            return 23
        }
    }
}
