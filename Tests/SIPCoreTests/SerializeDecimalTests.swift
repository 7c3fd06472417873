@testable import SIPCore
import Testing

/// The Content-Length digits `serialize` writes and compares without making `String(n)`.
@Suite struct SerializeDecimalTests {
    @Test func appendDecimalWritesStringOfN() {
        var values = Array(0...1_100) + [9_999, 10_000, 65_535, 99_999_999, 1_000_000_007, Int.max]
        values += (0..<18).map { Int(pow10($0)) - 1 } + (0..<18).map { Int(pow10($0)) }
        for n in values {
            var out: [UInt8] = [7]
            SIPMessage.appendDecimal(n, to: &out)
            #expect(out == [7] + Array(String(n).utf8), "\(n)")
        }
    }

    @Test func isDecimalMatchesStringOfN() {
        let texts = ["0", "00", "1", "01", "10", "129", "0129", " 129", "129 ", "12a", "", "-1", "+1",
                     "999999999999999999", "9999999999999999999", "99999999999999999999"]
        for text in texts {
            for n in [0, 1, 10, 129, 999_999_999_999_999_999, Int.max] {
                #expect(SIPMessage.isDecimal(Array(text.utf8)[...], n) == (text == String(n)), "\(text) \(n)")
            }
        }
    }

    private func pow10(_ e: Int) -> UInt64 { (0..<e).reduce(UInt64(1)) { r, _ in r * 10 } }
}
