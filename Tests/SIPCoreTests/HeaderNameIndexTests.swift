@testable import SIPCore
import TandemTestSupport
import Testing

/// `HeaderNameIndex` (the parser's header name look-up) finds what a plain scan of `HeaderName.table`
/// finds: every known name in several spellings, and seeded mutations of them.
@Suite struct HeaderNameIndexTests {
    /// The look-up by definition: the entry whose canonical name equals the bytes ignoring ASCII case,
    /// or whose compact letter does (one byte); 0 when none.
    static func expectedCode(_ bytes: [UInt8]) -> UInt8 {
        let lower = bytes.map(asciiLower)
        for (i, info) in HeaderName.table.enumerated() {
            if lower.count == 1, let k = info.compact, lower[0] == k { return UInt8(i + 1) }
            if lower.count > 1, lower.count < HeaderNameIndex.lengthLimit, Array(info.canonical.utf8).map(asciiLower) == lower {
                return UInt8(i + 1)
            }
        }
        return 0
    }

    static var corpus: [String] {
        HeaderName.table.flatMap { info in
            [info.canonical, info.canonical.uppercased(), info.canonical.lowercased()]
                + (info.compact.map { [String(UnicodeScalar($0)), String(UnicodeScalar($0)).uppercased()] } ?? [])
        } + ["X-Custom", "Vía", "", "viaa", "Content-Lengthx", String(repeating: "a", count: 31)]
    }

    @Test func indexAgreesWithTable() {
        let alphabet = Array("-aAeiIvVzZ0_.!~\u{7F}".utf8) + [0xC3, 0xA9]
        let inputs = Self.corpus.map { Array($0.utf8) }
            + CorpusMutations.make(Self.corpus, alphabet: alphabet, seed: 0x2545_F491_4F6C_DD1D, count: 20_000)
        for bytes in inputs {
            let code = bytes.withUnsafeBufferPointer { HeaderName.lookupCode($0, 0..<$0.count) }
            #expect(code == Self.expectedCode(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func everyKnownNameFindsItsOwnCode() {
        for (i, info) in HeaderName.table.enumerated() {
            #expect(HeaderName(info.canonical) == info.name)
            #expect(HeaderName(info.canonical.uppercased()).code == UInt8(i + 1))
        }
    }
}
