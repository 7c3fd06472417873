import Testing
@testable import SIPCore

@Suite struct MutationTests {
    @Test func untouchedRoundTripIsByteExact() throws {
        let m = try SIPMessage(parsing: sampleInvite)
        #expect(m.serialize() == sampleInvite)
        let compact = wire("OPTIONS sip:a@b SIP/2.0\nv: SIP/2.0/UDP h\ni: x\nSubject: a\n  b\nl: 0\n\n")
        #expect(try SIPMessage(parsing: compact).serialize() == compact)
    }

    @Test func contentLengthIsRecomputed() throws {
        let m = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nl:   3\nVia: SIP/2.0/UDP h\n\nabcdef"))
        #expect(String(decoding: m.serialize(), as: UTF8.self) == "OPTIONS sip:a@b SIP/2.0\r\nl:   3\r\nVia: SIP/2.0/UDP h\r\n\r\nabc")
        var edited = m
        edited.setBody(Array("12345".utf8))
        #expect(String(decoding: edited.serialize(), as: UTF8.self) == "OPTIONS sip:a@b SIP/2.0\r\nl: 5\r\nVia: SIP/2.0/UDP h\r\n\r\n12345")
        let noCL = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\n\nxy"))
        #expect(String(decoding: noCL.serialize(), as: UTF8.self).hasSuffix("Via: SIP/2.0/UDP h\r\nContent-Length: 2\r\n\r\nxy"))
    }

    @Test func proxyStyleEdits() throws {
        var m = try SIPMessage(parsing: sampleInvite)
        m.prependHeader(.via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew")
        m.prependHeader(.recordRoute, "<sip:proxy.example.com;lr>")
        m.setHeader(.maxForwards, "69")
        #expect(m.removeFirstValue(.route) == "<sip:p1.example.com;lr>")
        m.setRequestURI("sip:bob@192.0.2.4:5060")
        let out = try SIPMessage(parsing: m.serialize())
        #expect(out.requestURIText == "sip:bob@192.0.2.4:5060")
        #expect(try out.vias().map(\.host) == ["proxy.example.com", "client.atlanta.example.com"])
        #expect(try out.maxForwards() == 69)
        #expect(try out.routes().map(\.uriText) == ["sip:p2.example.com;lr"])
        #expect(try out.recordRoutes().map(\.uriText) == ["sip:proxy.example.com;lr"])
        #expect(out.body == m.body)
        try out.validateForProxy()
        // Untouched headers kept verbatim.
        let text = String(decoding: out.serialize(), as: UTF8.self)
        #expect(text.contains("\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"))
        #expect(text.contains("\r\nRoute: <sip:p2.example.com;lr>\r\n"))
    }

    @Test func popTopViaSharingALine() throws {
        var m = try SIPMessage(parsing: wire("""
        SIP/2.0 200 OK
        v: SIP/2.0/UDP proxy;branch=z9hG4bK1, SIP/2.0/UDP client;branch=z9hG4bK2
        Via: SIP/2.0/UDP far;branch=z9hG4bK3
        Content-Length: 0

        """))
        #expect(m.removeFirstValue(.via) == "SIP/2.0/UDP proxy;branch=z9hG4bK1")
        #expect(try m.topVia().host == "client")
        let s = String(decoding: m.serialize(), as: UTF8.self)
        #expect(s == "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP client;branch=z9hG4bK2\r\nVia: SIP/2.0/UDP far;branch=z9hG4bK3\r\nContent-Length: 0\r\n\r\n")
        #expect(m.removeFirstValue(.via) != nil)
        #expect(m.removeFirstValue(.via) != nil)
        #expect(m.removeFirstValue(.via) == nil)
        #expect(!m.hasHeader(.via))
    }

    /// Every edit of the Via lines shows in `topVia()`.
    @Test func topViaFollowsViaEdits() throws {
        var m = try SIPMessage(parsing: sampleInvite)
        let original = try m.topVia()
        m.prependHeader(.via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew")
        #expect(try m.topVia().branch == "z9hG4bKnew")
        m.setHeader(.maxForwards, "69")
        #expect(try m.topVia().host == "proxy.example.com")
        #expect(m.removeFirstValue(.via) != nil)
        #expect(try m.topVia() == original)
        try m.setTopViaParams(received: "192.0.2.9", rport: nil)
        #expect(try m.topVia().received == "192.0.2.9")
        m.removeHeaders(.via)
        #expect(throws: SIPParseError(.missingHeader(.via))) { try m.topVia() }
        m.appendHeader(.via, "SIP/2.0/TCP h2;branch=z9hG4bK2")
        #expect(try m.topVia().transport == "TCP")
        let bad = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nVia: nonsense\n\n"))
        #expect(throws: SIPParseError.self) { try bad.topVia() }
        #expect(throws: SIPParseError.self) { try bad.topVia() }
    }

    /// The mandatory From/To check accepts and rejects exactly what `NameAddr(parsing:)` does.
    @Test func nameAddrValidateMatchesParsing() {
        let values = ["Alice <sip:alice@a.example>;tag=1", "\"A \\\" b\" <sip:a@b>", "sip:a@b;tag=x", "<sip:a@b>",
                      "<sip:a@b", "sip:a@b?x=y", "sip:a,b", "<tel:+1234>", "<urn:x:y>", "<http://x>", "", "  ",
                      "<sip:a@b>;tag", "<sip:a@b>;tag=", "<sip:a@b>;=x", "<sip:a@b> x", "<sip:a@b>;p=\"q\";r=[::1]",
                      "A B <sip:a@b>", "<sip:@b>", "< sip:a@b>", "\"x\" sip:a@b", "<sip:a@b:99999>", "<1sip:a>"]
        for v in values {
            let b = Array(v.utf8)[...]
            var parseError: SIPParseError? = nil
            do { _ = try NameAddr(parsing: b) } catch { parseError = error }
            var validateError: SIPParseError? = nil
            do { try NameAddr.validate(b) } catch { validateError = error }
            #expect(parseError == validateError, "\(v)")
        }
    }

    @Test func popFromFoldedAndOwnedLines() throws {
        var m = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nRoute: <sip:a;lr>,\n <sip:b;lr>,\n <sip:c;lr>\n\n"))
        #expect(m.removeFirstValue(.route) == "<sip:a;lr>")
        #expect(m.headerValues(.route) == ["<sip:b;lr>", "<sip:c;lr>"])
        m.setHeader(.route, "<sip:x;lr>, <sip:y;lr>")
        #expect(m.removeFirstValue(.route) == "<sip:x;lr>")
        #expect(m.headerValues(.route) == ["<sip:y;lr>"])
        #expect(try SIPMessage(parsing: m.serialize()).headerValues(.route) == ["<sip:y;lr>"])
    }

    @Test func topViaParamsAndRemoveAll() throws {
        var m = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP c.example.com;rport;branch=z9hG4bK1, SIP/2.0/UDP d\nX-A: 1\nx-a: 2\n\n"))
        try m.setTopViaParams(received: "192.0.2.9", rport: 5099)
        let via = try m.topVia()
        #expect(via.received == "192.0.2.9")
        #expect(via.rport == .value(5099))
        #expect(try m.vias().count == 2)
        m.removeHeaders(.other("X-A"))
        #expect(!m.hasHeader(.other("x-a")))
        m.appendHeader(.other("X-New"), "v")
        #expect(m.header(.other("x-new")) == "v")
        let s = String(decoding: m.serialize(), as: UTF8.self)
        #expect(s.contains("Via: SIP/2.0/UDP c.example.com;rport=5099;branch=z9hG4bK1;received=192.0.2.9, SIP/2.0/UDP d\r\n"))
        #expect(s.contains("X-New: v\r\n"))
    }

    @Test func setBodyUpdatesContentLength() throws {
        var m = try SIPMessage(parsing: sampleInvite)
        m.setBody(Array("hello".utf8), contentType: "text/plain")
        let out = try SIPMessage(parsing: m.serialize())
        #expect(out.contentLength == 5)
        #expect(out.header(.contentLength) == "5")
        #expect(out.contentType == "text/plain")
        #expect(Array(out.body) == Array("hello".utf8))
    }

    @Test func makeResponseCopiesRFC3261Headers() throws {
        let req = try SIPMessage(parsing: wire("""
        INVITE sip:bob@b.example.com SIP/2.0
        Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKp, SIP/2.0/UDP a.example.com;branch=z9hG4bKa;received=1.2.3.4
        v: SIP/2.0/TCP c.example.com;branch=z9hG4bKc
        Max-Forwards: 70
        f: Alice <sip:alice@a.example.com>;tag=88
        To: Bob <sip:bob@b.example.com>
        Call-ID: call-1@a
        CSeq: 7 INVITE
        Subject: x
        Content-Length: 0

        """))
        let bytes = SIPMessage.makeResponse(to: req, status: 486, toTag: "srv1")
        let r = try SIPMessage(parsing: bytes)
        #expect(r.statusCode == 486)
        #expect(r.reasonPhrase == "Busy Here")
        #expect(try r.vias().map(\.host) == ["p.example.com", "a.example.com", "c.example.com"])
        #expect(try r.from().tag == "88")
        #expect(try r.to().tag == "srv1")
        #expect(r.callID == "call-1@a")
        #expect(try r.cseq() == CSeq(number: 7, method: .invite))
        #expect(!r.hasHeader(.subject))
        #expect(!r.hasHeader(.maxForwards))
        #expect(r.contentLength == 0)
        let trying = try SIPMessage(parsing: SIPMessage.makeResponse(to: req, status: 100))
        #expect(try trying.to().tag == nil)
        #expect(trying.reasonPhrase == "Trying")
        let custom = try SIPMessage(parsing: SIPMessage.makeResponse(
            to: req, status: 400, reason: "Bad CSeq", extraHeaders: [(.server, "Tandem")], body: Array("oops".utf8), contentType: "text/plain"))
        #expect(custom.reasonPhrase == "Bad CSeq")
        #expect(custom.header(.server) == "Tandem")
        #expect(Array(custom.body) == Array("oops".utf8))
    }

    @Test func branchesAndTransactionKeys() throws {
        let a = Branch.generate(), b = Branch.generate()
        #expect(a != b)
        #expect(Branch.isRFC3261(a))
        #expect(a.utf8.count == 23)
        #expect(Branch.derived(from: "x") == Branch.derived(from: "x"))
        #expect(Branch.derived(from: "x") != Branch.derived(from: "y"))
        // The cookie, then the FNV-1a hash of the key mixed, as 16 lowercase hex digits.
        for key in ["", "x", "z9hG4bK-1-2-0", "a-call-id@host"] {
            var h: UInt64 = 0xcbf29ce484222325
            for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            let hex = String(Branch.mix(h), radix: 16)
            #expect(Branch.derived(from: key) == "z9hG4bK" + String(repeating: "0", count: 16 - hex.count) + hex)
        }
        #expect(Set((0..<1000).map { _ in Branch.generate() }).count == 1000)
        let m = try SIPMessage(parsing: sampleInvite)
        let key = m.transactionKey()
        #expect(key == TransactionKey(branch: "z9hG4bK74bf9", sentBy: "client.atlanta.example.com:5060", method: .invite))
        let old = try SIPMessage(parsing: wire("INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=1234\nCSeq: 1 INVITE\n\n"))
        #expect(old.transactionKey() == nil)
    }
}

@Suite struct ConvenienceTests {
    @Test func maxForwardsDecrement() throws {
        var m = try SIPMessage(parsing: sampleInvite)
        #expect(try m.decrementMaxForwards() == 69)
        #expect(try m.maxForwards() == 69)
        var old = try SIPMessage(parsing: wire("INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\n\n"))
        #expect(try old.decrementMaxForwards() == 70)
        #expect(old.header(.maxForwards) == "70")
        var zero = try SIPMessage(parsing: wire("INVITE sip:a@b SIP/2.0\nMax-Forwards: 0\n\n"))
        #expect(try zero.decrementMaxForwards() == 0)
    }

    @Test func rawBufferInitAndDescription() throws {
        let m = try sampleInvite.withUnsafeBytes { buf throws(SIPParseError) in try SIPMessage(parsing: buf) }
        #expect(m.originalBytes == sampleInvite)
        #expect(m.description.hasPrefix("INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"))
    }

    @Test func editedOtherHeaderKeepsSpelling() throws {
        var m = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0\nx-FOO: 1\nl: 0\n\n"))
        m.setHeader(.other("X-Foo"), "2")
        #expect(m.description == "OPTIONS sip:a@b SIP/2.0\r\nx-FOO: 2\r\nl: 0\r\n\r\n")
    }
}
