/// Finding a few delimiter bytes eight bytes at a time (SWAR over a 64-bit word): the URI split
/// runs on every `uri.*` evaluation, and a byte-at-a-time loop with three tests per byte was most of
/// its cost. Only the bytes that match are looked at one by one.
enum ByteScan {
    private static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// `c` in every byte of a word.
    @inline(__always) static func spread(_ c: UInt8) -> UInt64 { UInt64(c) &* 0x0101_0101_0101_0101 }

    /// 0x80 in each byte of `word` equal to the byte `pattern` holds in each of its bytes, 0 elsewhere
    /// (exact: no carry crosses a byte).
    @inline(__always) static func matches(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let v = word ^ pattern
        return ~(((v & low7) &+ low7) | v | low7)
    }

    /// The eight bytes at `offset` as a little-endian word (byte `offset` lowest).
    @inline(__always) static func word(_ b: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(b.baseAddress! + offset).loadUnaligned(as: UInt64.self))
    }

    /// Calls `body` with the offset and value of every byte of `b[from..<to]` that is `x`, `y` or
    /// `z`, in order, until it returns false. Returns false when `body` stopped the scan.
    @inline(__always)
    static func forEach(_ b: UnsafeBufferPointer<UInt8>, from: Int, to: Int, _ x: UInt8, _ y: UInt8, _ z: UInt8,
                        _ body: (Int, UInt8) -> Bool) -> Bool {
        let px = spread(x), py = spread(y), pz = spread(z)
        var i = from
        while to - i >= 8 {
            let w = word(b, i)
            var m = matches(w, px) | matches(w, py) | matches(w, pz)
            while m != 0 {
                let k = i + m.trailingZeroBitCount >> 3
                if !body(k, b[k]) { return false }
                m &= m &- 1
            }
            i += 8
        }
        guard i < to else { return true }
        if to >= 8 {
            // The last 1...7 bytes: the word ending at `to` (inside the buffer), without its bytes before `i`.
            let base = to - 8
            let w = word(b, base)
            var m = (matches(w, px) | matches(w, py) | matches(w, pz)) & (~UInt64(0) << UInt64((i - base) * 8))
            while m != 0 {
                let k = base + m.trailingZeroBitCount >> 3
                if !body(k, b[k]) { return false }
                m &= m &- 1
            }
            return true
        }
        while i < to {
            let c = b[i]
            if c == x || c == y || c == z { if !body(i, c) { return false } }
            i += 1
        }
        return true
    }
}
