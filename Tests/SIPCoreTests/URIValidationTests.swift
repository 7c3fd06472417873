@testable import SIPCore
import TandemTestSupport
import Testing

/// `URI.isValid` (the From/To check and `has_totag()`, without building the URI) accepts exactly what
/// `URI(parsing:)` accepts.
@Suite struct URIValidationTests {
    static let corpus = [
        "sip:alice@example.com", "sip:example.com", "sips:alice:secret@example.com:5061;transport=tls",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone", "sip:alice;day=tuesday@atlanta.com",
        "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:[2001:db8::10]:5070;lr", "sip:[2001:db8::10", "sip:127.0.0.1:15070", "SIP:Bob@Example.COM",
        "sip:a%4@b", "sip:a%41@b", "sip:@b", "sip:a@", "sip:a@b:", "sip:a@b:99999", "sip:a@b;", "sip:a@b;x=",
        "sip:a@b;lr;x=1", "sip:a@b?", "sip:a@b?x", "sip:a@b?x=1&", "sip:a@b?x=1&y=2", "sip:a@b?x=1?y",
        "sip:a b@c", "sip:a@b c", "sip:a@b>", "sip:\"a\"@b", "sip:a:@b", "sip:a:p%zz@b", "sip:", "sips:", "sip",
        "tel:+1234", "tel:+1-234;phone-context=x", "tel:", "tel:12;", "urn:service:sos", "mailto:a@b", "1sip:a@b",
        "s+.-:x", "s:", "", "sip:a@b_c.d-e", "sip:a@-", "sip:a@[::1]x", "sip:a@b;x=[1]", "sip:a@b:0",
        "sip:a@b;x=1;y;z=2?h=v", "sip:user@host;transport=udp;maddr=[::1]",
    ]

    @Test func agreesWithParsingOnCorpus() {
        for text in Self.corpus {
            let bytes = Array(text.utf8)[...]
            #expect(URI.isValid(bytes) == ((try? URI(parsing: text)) != nil), "\(text)")
            #expect(SIPURI.isValid(bytes) == ((try? SIPURI(parsing: text)) != nil), "\(text)")
        }
    }

    @Test func agreesWithParsingOnMutations() {
        // Deterministic mutations of the corpus: a byte replaced, inserted or removed.
        let alphabet = Array("@:;=?&%[]<>\" .-_+!~*'()/0aZ9\t".utf8)
        for bytes in CorpusMutations.make(Self.corpus, alphabet: alphabet, seed: 0x2545_F491_4F6C_DD1D, count: 20_000) {
            let parsed = (try? URI(parsing: bytes[...])) != nil
            #expect(URI.isValid(bytes[...]) == parsed, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }
}
