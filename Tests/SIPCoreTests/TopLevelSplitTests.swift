import Testing
@testable import SIPCore

/// `firstTopLevel` (the top Via, read on every message) against the first element of `splitTopLevel`.
@Suite struct TopLevelSplitTests {
    @Test("firstTopLevel is the first element of splitTopLevel, for lists, quotes, brackets and blanks")
    func firstMatchesSplit() {
        let samples = [
            "", "   ", "SIP/2.0/UDP a:5060;branch=z9hG4bK1",
            "SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/UDP b;branch=z9hG4bK2",
            " SIP/2.0/UDP a ,SIP/2.0/UDP b, SIP/2.0/UDP c ",
            ",SIP/2.0/UDP b", "SIP/2.0/UDP a,", ",",
            "\"a, b\" <sip:x@h>, <sip:y@h>", "<sip:x@h;p=a,b>, <sip:y@h>",
            "\"a \\\" , b\" <sip:x@h>, c", "\"unterminated, x", "\"ends in backslash\\",
            "<sip:x@h, y", "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx, SIP/2.0/UDP c",
        ]
        for text in samples {
            let bytes = Array(text.utf8)[...]
            #expect(firstTopLevel(bytes) == splitTopLevel(bytes).first, "\(text)")
            // The same at an offset into a larger buffer (slices keep their indices).
            let padded = Array(("X: " + text).utf8)
            let slice = padded[3...]
            #expect(firstTopLevel(slice) == splitTopLevel(slice).first, "offset: \(text)")
        }
    }
}
