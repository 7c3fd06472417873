import Testing
import Foundation
@testable import SIPCore

@Suite struct ParserTests {
    @Test func parsesRequestStartLineAndHeaders() throws {
        let m = try SIPMessage(parsing: sampleInvite)
        #expect(m.isRequest)
        #expect(m.method == .invite)
        #expect(m.requestURIText == "sip:bob@biloxi.example.com")
        #expect(m.statusCode == nil)
        #expect(m.callID == "3848276298220188511@atlanta.example.com")
        #expect(m.header(.maxForwards) == "70")
        #expect(m.contentType == "application/sdp")
        #expect(m.contentLength == 151)
        #expect(m.body.count == 151)
        #expect(m.body.first == UInt8(ascii: "v"))
        try m.validateForProxy()
    }

    @Test func parsesStatusLine() throws {
        let m = try SIPMessage(parsing: wire("""
        SIP/2.0 486 Busy Here
        Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKx
        Content-Length: 0

        """))
        #expect(!m.isRequest)
        #expect(m.statusCode == 486)
        #expect(m.reasonPhrase == "Busy Here")
        #expect(m.method == nil)
    }

    @Test func compactFormsMapToCanonicalNames() throws {
        let m = try SIPMessage(parsing: wire("""
        OPTIONS sip:a@b SIP/2.0
        v: SIP/2.0/UDP h;branch=z9hG4bK1
        i: cid
        f: <sip:x@y>;tag=1
        t: <sip:a@b>
        m: <sip:c@d>
        l: 0
        c: text/plain
        e: gzip
        s: subj
        k: 100rel
        o: presence
        r: <sip:r@x>
        b: <sip:b@x>
        u: presence
        x: 1800
        a: *;audio
        j: *;video
        d: proxy
        y: abc
        n: <http://x>

        """))
        #expect(m.callID == "cid")
        #expect(m.header(.via) == "SIP/2.0/UDP h;branch=z9hG4bK1")
        #expect(m.header(.contentType) == "text/plain")
        #expect(m.header(.contentEncoding) == "gzip")
        #expect(m.header(.subject) == "subj")
        #expect(m.header(.supported) == "100rel")
        #expect(m.header(.event) == "presence")
        #expect(m.header(.referTo) == "<sip:r@x>")
        #expect(m.header(.referredBy) == "<sip:b@x>")
        #expect(m.header(.allowEvents) == "presence")
        #expect(m.header(.sessionExpires) == "1800")
        #expect(m.header(.acceptContact) == "*;audio")
        #expect(m.header(.rejectContact) == "*;video")
        #expect(m.header(.requestDisposition) == "proxy")
        #expect(m.header(.identity) == "abc")
        #expect(m.header(.identityInfo) == "<http://x>")
        #expect(try m.contacts().first?.uriText == "sip:c@d")
        #expect(try m.from().tag == "1")
    }

    @Test func headerNamesAreCaseInsensitive() throws {
        #expect(HeaderName("CALL-id") == .callID)
        #expect(HeaderName("V") == .via)
        #expect(HeaderName("X-Custom") == .other("x-custom"))
        #expect(HeaderName.other("X-A").hashValue == HeaderName.other("x-a").hashValue)
        #expect(HeaderName.via.compactForm == "v")
        #expect(HeaderName.callID.canonicalName == "Call-ID")
        let m = try SIPMessage(parsing: wire("""
        MESSAGE sip:a@b SIP/2.0
        X-Custom: one
        x-custom: two
        VIA: SIP/2.0/UDP h

        """))
        #expect(m.headerValues(.other("X-CUSTOM")) == ["one", "two"])
        #expect(m.hasHeader(.via))
        #expect(m.allHeaders.first?.name == .other("x-custom"))
    }

    @Test func lineFoldingIsUnfolded() throws {
        let m = try SIPMessage(parsing: wire("""
        OPTIONS sip:a@b SIP/2.0
        Subject: first
          second
        \tthird
        Call-ID
         : abc@def
        Via: SIP/2.0/UDP h

        """))
        #expect(m.header(.subject) == "first second third")
        #expect(m.callID == "abc@def")
    }

    @Test func acceptsBareLF() throws {
        let m = try SIPMessage(parsing: Array("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\nSubject: a\n b\nl: 4\n\nbody".utf8))
        #expect(m.header(.subject) == "a b")
        #expect(Array(m.body) == Array("body".utf8))
        #expect(try m.topVia().branch == "z9hG4bKq")
    }

    @Test func multiValueHeadersSplitAtTopLevelCommas() throws {
        let m = try SIPMessage(parsing: wire("""
        INVITE sip:a@b SIP/2.0
        Via: SIP/2.0/UDP h1;branch=z9hG4bK1, SIP/2.0/UDP h2;branch=z9hG4bK2
        Via: SIP/2.0/UDP h3;branch=z9hG4bK3
        Contact: "Doe, John" <sip:j,k@x;a=1>, <sip:k@y>;q=0.5
        Date: Sat, 13 Nov 2010 23:29:00 GMT

        """))
        #expect(m.headerValues(.via).count == 3)
        #expect(m.headerCount(.via) == 3)
        #expect(m.headerLineCount(.via) == 2)
        #expect(try m.vias().map(\.host) == ["h1", "h2", "h3"])
        #expect(m.headerValues(.contact) == ["\"Doe, John\" <sip:j,k@x;a=1>", "<sip:k@y>;q=0.5"])
        let c = try m.contacts()
        #expect(c.count == 2)
        #expect(c[0].displayName == "Doe, John")
        #expect(c[0].uri.sipURI?.user == "j,k")
        #expect(c[1].parameters.value(of: "q") == "0.5")
        #expect(m.headerValues(.date) == ["Sat, 13 Nov 2010 23:29:00 GMT"])
    }

    @Test func contentLengthHandling() throws {
        let longer = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nl: 3\n\nabcdef"))
        #expect(Array(longer.body) == Array("abc".utf8))
        let missing = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\n\nabcdef"))
        #expect(missing.body.count == 6)
        #expect(parseError(wire("OPTIONS sip:a@b SIP/2.0\nl: 30\n\nabc"))?.reason == .contentLengthMismatch)
        #expect(parseError(wire("OPTIONS sip:a@b SIP/2.0\nl: x\n\nabc"))?.reason == .badContentLength)
        #expect(parseError(wire("OPTIONS sip:a@b SIP/2.0\nl: 99999999999999999999999\n\nabc"))?.reason == .badContentLength)
        #expect(parseError(wire("OPTIONS sip:a@b SIP/2.0\nl: 1\nContent-Length: 2\n\nabc"))?.reason == .duplicateHeader(.contentLength))
        // No blank line at all: tolerated, empty body.
        let noBlank = try SIPMessage(parsing: Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n".utf8))
        #expect(noBlank.body.isEmpty)
    }

    @Test func startLineErrors() {
        #expect(parseError([])?.reason == .empty)
        #expect(parseError(Array("\r\n\r\n".utf8))?.reason == .empty)
        #expect(parseError(Array("OPTIONS sip:a@b SIP/2.0".utf8))?.reason == .truncated)
        #expect(parseError(wire("GARBAGE\n\n"))?.reason == .badStartLine)
        #expect(parseError(wire("INV@ITE sip:a@b SIP/2.0\n\n"))?.reason == .badMethod)
        #expect(parseError(wire("INVITE sip:a@b SIP/3.0\n\n"))?.reason == .badVersion)
        #expect(parseError(wire("INVITE sip:a@b HTTP/1.1\n\n"))?.reason == .badStartLine)
        #expect(parseError(wire("SIP/2.0 20 OK\n\n"))?.reason == .badStatusCode)
        #expect(parseError(wire("SIP/2.0 700 OK\n\n"))?.reason == .badStatusCode)
        #expect(parseError(wire("SIP/2.1 200 OK\n\n"))?.reason == .badVersion)
        #expect(parseError(wire("INVITE <sip:a@b> SIP/2.0\n\n"))?.reason == .badRequestURI)
        #expect(parseError(wire("INVITE sip:a@b SIP/2.0\n: novalue\n\n"))?.reason == .badHeaderName)
        #expect(parseError(wire("INVITE sip:a@b SIP/2.0\nNoColon\n\n"))?.reason == .badHeaderName)
        #expect(parseError(wire("INVITE sip:a@b SIP/2.0\n continuation\n\n"))?.reason == .badHeaderName)
        #expect(parseError([UInt8](repeating: 65, count: 70_000))?.reason == .tooLarge)
    }

    @Test func shouldReply400OnlyWithUsableVia() {
        let withVia = parseError(wire("INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nl: 50\n\nx"))
        #expect(withVia?.reason == .contentLengthMismatch)
        #expect(withVia?.shouldReply400 == true)
        let noVia = parseError(wire("INVITE sip:a@b SIP/2.0\nl: 50\n\nx"))
        #expect(noVia?.shouldReply400 == false)
        let response = parseError(wire("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\nl: 50\n\nx"))
        #expect(response?.shouldReply400 == false)
    }

    @Test("An unusable top Via with a readable Call-ID still asks for a 400 (it goes to the source address)")
    func unusableViaWithCallID() throws {
        let badVia = parseError(wire("INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP\nCall-ID: c1\nl: 50\n\nx"))
        #expect(badVia?.shouldReply400 == true)
        #expect(SIPMessage.partialRequest(parsing: wire("INVITE sip:a@b SIP/2.0\nVia: ?\ni: c1\nl: 50\n\nx")) != nil)
        let noCallID = parseError(wire("INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP\nl: 50\n\nx"))
        #expect(noCallID?.shouldReply400 == false)
        let valid = try SIPMessage(parsing: wire("""
            INVITE sip:a@b SIP/2.0
            Via: garbage here
            From: <sip:x@y>;tag=1
            To: <sip:a@b>
            Call-ID: c1
            CSeq: 1 INVITE

            """))
        #expect(throws: SIPParseError(.badVia, shouldReply400: true)) { try valid.validateForProxy() }
    }

    @Test func validateForProxyNamesMissingHeader() throws {
        let base = """
        INVITE sip:a@b SIP/2.0
        Via: SIP/2.0/UDP h;branch=z9hG4bK1
        From: <sip:x@y>;tag=1
        To: <sip:a@b>
        Call-ID: c1
        CSeq: 1 INVITE
        Max-Forwards: 70

        """
        try SIPMessage(parsing: wire(base)).validateForProxy()
        for (line, name) in [("From: <sip:x@y>;tag=1\n", HeaderName.from), ("To: <sip:a@b>\n", .to),
                             ("Call-ID: c1\n", .callID), ("CSeq: 1 INVITE\n", .cseq)] {
            let m = try SIPMessage(parsing: wire(base.replacingOccurrences(of: line, with: "")))
            #expect(throws: SIPParseError(.missingHeader(name), shouldReply400: true)) { try m.validateForProxy() }
        }
        let noVia = try SIPMessage(parsing: wire(base.replacingOccurrences(of: "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n", with: "")))
        #expect(throws: SIPParseError(.missingHeader(.via), shouldReply400: false)) { try noVia.validateForProxy() }
        let badMF = try SIPMessage(parsing: wire(base.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 256")))
        #expect(throws: SIPParseError(.badMaxForwards, shouldReply400: true)) { try badMF.validateForProxy() }
        let badCallID = try SIPMessage(parsing: wire(base.replacingOccurrences(of: "Call-ID: c1", with: "Call-ID: a b")))
        #expect(throws: SIPParseError(.badCallID, shouldReply400: true)) { try badCallID.validateForProxy() }
        let mismatch = try SIPMessage(parsing: wire(base.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 BYE")))
        #expect(throws: SIPParseError(.cseqMethodMismatch, shouldReply400: true)) { try mismatch.validateForProxy() }
    }

    @Test func validateForProxyWithTopViaCheckedMatchesFullCheck() throws {
        // handleRequest skips the top Via parse it already made: every other check must stay the same.
        let base = """
        INVITE sip:a@b SIP/2.0
        Via: SIP/2.0/UDP h;branch=z9hG4bK1
        From: <sip:x@y>;tag=1
        To: <sip:a@b>
        Call-ID: c1
        CSeq: 1 INVITE
        Max-Forwards: 70

        """
        let variants = [
            base,
            base.replacingOccurrences(of: "From: <sip:x@y>;tag=1\n", with: ""),
            base.replacingOccurrences(of: "To: <sip:a@b>", with: "To: <sip:a@b"),
            base.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 256"),
            base.replacingOccurrences(of: "Call-ID: c1", with: "Call-ID: a b"),
            base.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 BYE"),
            base.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 70\nMax-Forwards: 69"),
        ]
        for text in variants {
            let m = try SIPMessage(parsing: wire(text))
            _ = try m.topVia()
            var full: SIPParseError?
            var skipped: SIPParseError?
            do { try m.validateForProxy() } catch { full = error }
            do { try m.validateForProxy(topViaChecked: true) } catch { skipped = error }
            #expect(full == skipped, "\(text)")
        }
    }

    @Test func hasTagAgreesWithParsedTag() throws {
        let values = [
            "<sip:a@b>;tag=1", "<sip:a@b>", "<sip:a@b>;tag", "<sip:a@b>;TAG=x", "<sip:a@b>;Tag = y ;x=1",
            "<sip:a@b;tag=u>", "<sip:a@b;tag=u>;foo=1", "sip:a@b;tag=2", "sip:a@b", "\"Al;tag=q\" <sip:a@b>",
            "\"Al\" <sip:a@b>;x;tag=3", "Al <sip:a@b>;tag=3;tag=4", "<sip:a@b>;tag;tag=5", "<sip:a@b>;tag=",
            "<sip:a@b>;;tag=1", "<sip:a@b>;tag=1 junk", "<sip:a b@c>;tag=1", "<>;tag=1", "<tel:+1234>;tag=t",
            "<urn:x:y>;tag=u", "<sip:a@[::1]:5060>;tag=6", "   ", "<sip:a@b>;tag=\"q\"", "<sip:a@b>;tag=[::1]",
        ]
        for v in values {
            let expected = (try? NameAddr(parsing: v))?.tag != nil
            #expect(NameAddr.hasTag(Array(v.utf8)[...]) == expected, "\(v)")
        }
    }
}
