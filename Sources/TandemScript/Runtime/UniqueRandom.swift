import Synchronization

/// Random 64-bit values for identifiers that must differ but need not be secret (nonce salt, usrloc
/// `contact_id`): SplitMix64 over one process-wide atomic counter seeded from the system generator.
/// `UInt64.random(in:)` asks the kernel (`getrandom`) on every call; this is a few instructions, and
/// since the mix is a bijection no two calls of a process return the same value.
public enum UniqueRandom {
    private static let state = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    private static let counter32 = Atomic<UInt32>(UInt32.random(in: 0...UInt32.max))

    /// A 32-bit value that no other call of this process returns within 2^32 calls: a process-wide
    /// counter through a 32-bit bijective mix (a nonce's salt: two challenges in one second must not get
    /// the same nonce, which 32 random bits allow by the birthday bound, and the replay check would
    /// then refuse the second answer).
    public static func next32() -> UInt32 {
        var x = counter32.wrappingAdd(1, ordering: .relaxed).newValue
        x ^= x >> 16
        x = x &* 0x7FEB_352D
        x ^= x >> 15
        x = x &* 0x846C_A68B
        x ^= x >> 16
        return x
    }

    /// The next value.
    public static func next() -> UInt64 {
        let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
        var z = state.wrappingAdd(gamma, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
