import Testing
@testable import SIPCore

/// The byte path of URI parsing (issue 19: no String round trip for the Request-URI, From and To)
/// gives what the String path gives.
@Suite struct URIBytesTests {
    static let texts = [
        "sip:alice@atlanta.example.com", "SIP:Bob@Biloxi.Example.com:5070;transport=UDP;lr",
        "sips:[2001:db8::1]:5061", "Sips:carol@chicago.example.com?subject=x",
        "tel:+1-201-555-0123;phone-context=example.com", "TEL:911", "urn:service:sos",
        "HTTP://www.example.com/x", "sip:", "sip", "1sip:a@b", "sip:a b@c", "sip:alice@host;", "tel:",
    ]

    @Test func bytesAndStringAgree() {
        for text in Self.texts {
            let bytes = Array(text.utf8)
            let fromString = try? URI(parsing: text)
            let fromBytes = try? URI(parsing: bytes[...], text: text)
            let fromBytesAlone = try? URI(parsing: bytes[...])
            #expect(fromString == fromBytes, "\(text)")
            #expect(fromString == fromBytesAlone, "\(text)")
            #expect(fromString?.description == fromBytesAlone?.description, "\(text)")
            #expect(fromString?.scheme == fromBytes?.scheme, "\(text)")
        }
        #expect((try? URI(parsing: "HTTP://www.example.com/x"))?.scheme == "http")
        #expect((try? URI(parsing: "SIP:Bob@Biloxi.Example.com"))?.sipURI?.user == "Bob")
    }

    @Test func requestURIFromBytes() throws {
        let message = try SIPMessage(parsing: Array(
            "INVITE SIP:Bob@Biloxi.Example.com;lr SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n".utf8))
        let uri = try #require(try message.requestURI())
        #expect(uri == (try URI(parsing: "SIP:Bob@Biloxi.Example.com;lr")))
        #expect(uri.description == "SIP:Bob@Biloxi.Example.com;lr")
        var edited = message
        edited.setRequestURI("sip:carol@chicago.example.com")
        #expect(try edited.requestURI()?.sipURI?.user == "carol")
    }
}
