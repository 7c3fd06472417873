/// Deterministic variations of a corpus for the tests that check a fast path against the full parser:
/// each input is a corpus entry with 1–3 bytes replaced, inserted or removed (bytes from `alphabet`),
/// chosen by a xorshift sequence from `seed`, so a failure names an input that every run repeats. Shared by
/// the SIP parser's tests and the proxy's.
public enum CorpusMutations {
    public static func make(_ corpus: [String], alphabet: [UInt8], seed: UInt64, count: Int) -> [[UInt8]] {
        var state = seed
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
        }
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            var bytes = Array(corpus[next() % corpus.count].utf8)
            for _ in 0...(next() % 3) {
                let b = alphabet[next() % alphabet.count]
                switch next() % 3 {
                case 0 where !bytes.isEmpty: bytes[next() % bytes.count] = b
                case 1: bytes.insert(b, at: next() % (bytes.count + 1))
                default: if !bytes.isEmpty { bytes.remove(at: next() % bytes.count) }
                }
            }
            out.append(bytes)
        }
        return out
    }
}
