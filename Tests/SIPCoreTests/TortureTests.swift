import Testing
@testable import SIPCore

/// RFC 4475 torture messages (Tests/SIPCoreTests/Torture/*.dat), reproduced from the RFC text with
/// CRLF line ends and raw bytes where the RFC uses <hex>. Known deviations: the binary MIME part of
/// mpart01 is stand-in octets (same structure, Content-Length matches), and where the exact SDP
/// hosts were uncertain the Content-Length equals the body actually present (the RFC's bodies match
/// their Content-Length except in clerr/ncl/mcl01, which are kept wrong on purpose).
@Suite struct TortureTests {
    static let valid = ["wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq", "semiuri",
                        "transports", "mpart01", "unreason", "noreason", "badbranch", "unkscm", "novelsc", "unksm2",
                        "bext01", "invut", "regaut01", "bcast", "zeromf", "cparam01", "cparam02", "regescrt", "sdp01",
                        "inv2543", "baddate", "regbadct"]

    @Test(arguments: valid)
    func validMessagesParseAndValidate(name: String) throws {
        let m = try SIPMessage(parsing: try torture(name))
        try m.validateForProxy()
        _ = try m.vias()
        // Re-serialization parses to the same key fields.
        let again = try SIPMessage(parsing: m.serialize())
        #expect(again.callID == m.callID)
        #expect(again.body == m.body)
        #expect(try again.cseq() == m.cseq())
    }

    @Test func wsinv() throws {
        let m = try SIPMessage(parsing: try torture("wsinv"))
        #expect(m.method == .invite)
        #expect(m.requestURIText == "sip:vivekg@chair-dnrc.example.com;unknownparam")
        #expect(try m.to().tag == "1918181833n")
        #expect(try m.to().uriText == "sip:vivekg@chair-dnrc.example.com")
        #expect(try m.from().displayName == "J Rosenberg \\\"")
        #expect(try m.from().tag == "98asjd8")
        #expect(try m.maxForwards() == 68)
        #expect(m.callID == "wsinv.ndaksdj@192.0.2.1")
        #expect(try m.cseq() == CSeq(number: 9, method: .invite))
        let vias = try m.vias()
        #expect(vias.map(\.host) == ["192.0.2.2", "spindle.example.com", "192.168.255.111"])
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(vias.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        #expect(m.header(.subject) == "")
        #expect(m.header(.other("NewFangledHeader")) == "newfangled value continued newfangled value")
        #expect(m.header(.other("UnknownHeaderWithUnusualValue")) == ";;,,;;,;")
        let c = try m.contacts()
        #expect(c.count == 1)
        #expect(c[0].displayName == "Quoted string \"\"")
        #expect(c[0].parameters.value(of: "newparam") == "newvalue")
        #expect(c[0].parameters.value(of: "secondparam") == .some(nil))
        #expect(c[0].parameters.value(of: "q") == "0.33")
        #expect(try m.routes().first?.uri.sipURI?.isLooseRouter == true)
        #expect(m.contentLength == 150)
        #expect(m.transactionKey() == nil) // top branch lacks the magic cookie
    }

    @Test func intmeth() throws {
        let m = try SIPMessage(parsing: try torture("intmeth"))
        #expect(m.method == .other("!interesting-Method0123456789_*+`.%indeed'~"))
        let ruri = try #require(try m.requestURI()?.sipURI)
        #expect(ruri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(ruri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(ruri.host == "example.com")
        #expect(try m.to().displayName == "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
        #expect(try m.to().uri.sipURI?.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(try m.from().displayName == "token1~` token2'+_ token3*%!.-")
        #expect(try m.from().tag == "_token~1'+`*%!-.")
        #expect(try m.from().parameters.value(of: "fromParam''~+*_!.-%") == "\"работающий\"")
        #expect(m.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        #expect(try m.cseq().method == m.method)
        #expect(try m.maxForwards() == 255)
        #expect(m.header(.other("extensionHeader-!.%*+_`'~")) == "\u{FEFF}大停電")
        #expect(try m.topVia().branch == "z9hG4bK-.!%66*_+`'~")
    }

    @Test func escapes() throws {
        let e1 = try SIPMessage(parsing: try torture("esc01"))
        #expect(try e1.requestURI()?.sipURI?.user == "sips:user@example.com")
        #expect(try e1.to().uri.sipURI?.user == "user")
        #expect(try e1.from().uri.sipURI?.user == "I have spaces")
        let c = try #require(try e1.contacts().first?.uri.sipURI)
        #expect(c.user == "caller")
        #expect(c.parameters.map(\.name) == ["%6C%72", "n%61me"])
        #expect(e1.contentType == "application/sdp")
        let en = try SIPMessage(parsing: try torture("escnull"))
        #expect(try en.to().uri.sipURI?.user == "null-\u{0}-null")
        #expect(try en.contacts().map { $0.uri.sipURI?.user } == ["\u{0}", "\u{0}\u{0}"])
        let e2 = try SIPMessage(parsing: try torture("esc02"))
        #expect(e2.method == .other("RE%47IST%45R"))
        #expect(try e2.to().displayName == "%Z%45")
        #expect(try e2.topVia().rport == .requested)
        #expect(try e2.topVia().branch == "z9hG4bK209%fzsnel234")
        #expect(try e2.contacts().count == 2) // C%6Fntact is another header
        #expect(e2.header(.other("C%6Fntact")) == "<sip:alias2@host2.example.com>")
    }

    @Test func otherValidOnes() throws {
        #expect(try SIPMessage(parsing: try torture("lwsdisp")).from().displayName == "caller")
        let lr = try SIPMessage(parsing: try torture("longreq"))
        #expect(try lr.vias().count == 34)
        #expect(try lr.topVia().host == "sip33.example.com")
        #expect(try lr.vias().last?.branch?.hasPrefix("verylonglong") == true)
        #expect(try lr.from().tag?.count == 2 + 150 + 3)
        let dbl = try SIPMessage(parsing: try torture("dblreq"))
        #expect(dbl.method == .register)
        #expect(dbl.body.isEmpty)
        let semi = try SIPMessage(parsing: try torture("semiuri"))
        #expect(try semi.requestURI()?.sipURI?.user == "user;par=u@example.net")
        #expect(try semi.requestURI()?.sipURI?.host == "example.com")
        #expect(semi.headerValues(.accept).count == 6)
        let tr = try SIPMessage(parsing: try torture("transports"))
        #expect(try tr.vias().map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
        let mp = try SIPMessage(parsing: try torture("mpart01"))
        #expect(mp.body.count == mp.contentLength)
        #expect(mp.contentType == "multipart/mixed;boundary=7a9cbec02ceef655")
        let ur = try SIPMessage(parsing: try torture("unreason"))
        #expect(ur.statusCode == 200)
        #expect(ur.reasonPhrase == "= 2**3 * 5**2 но сто девяносто девять - простое")
        let nr = try SIPMessage(parsing: try torture("noreason"))
        #expect(nr.statusCode == 100)
        #expect(nr.reasonPhrase == "")
        let bb = try SIPMessage(parsing: try torture("badbranch"))
        #expect(bb.transactionKey()?.branch == "z9hG4bK")
        #expect(try SIPMessage(parsing: try torture("unkscm")).requestURI()?.scheme == "nobodyknowsthisscheme")
        #expect(try SIPMessage(parsing: try torture("novelsc")).requestURI()?.scheme == "soap.beep")
        let u2 = try SIPMessage(parsing: try torture("unksm2"))
        #expect(try u2.to().uri.scheme == "isbn")
        #expect(try u2.from().uri.scheme == "http")
        #expect(try u2.contacts().first?.uri.scheme == "name")
        #expect(try SIPMessage(parsing: try torture("bext01")).headerValues(.proxyRequire).count == 2)
        #expect(try SIPMessage(parsing: try torture("bcast")).vias()[1].host == "255.255.255.255")
        #expect(try SIPMessage(parsing: try torture("zeromf")).maxForwards() == 0)
        #expect(try SIPMessage(parsing: try torture("cparam01")).contacts().first?.parameters.value(of: "unknownparam") == .some(nil))
        #expect(try SIPMessage(parsing: try torture("cparam02")).contacts().first?.uri.sipURI?.parameters.first?.name == "unknownparam")
        #expect(try SIPMessage(parsing: try torture("regescrt")).contacts().first?.uri.sipURI?.headers.first?.name == "Route")
        #expect(try SIPMessage(parsing: try torture("regaut01")).header(.authorization) == "NoOneKnowsThisScheme opaque-data=here")
        let old = try SIPMessage(parsing: try torture("inv2543"))
        #expect(old.transactionKey() == nil)
        #expect(try old.from().tag == nil)
        #expect(try old.maxForwards() == nil)
        // addr-spec without <>: ";user=phone" is a header parameter (RFC 3261 §20.10).
        #expect(try old.to().parameters.value(of: "user") == "phone")
        #expect(try old.from().uri.sipURI?.userParam == "phone")
        // baddate: a proxy forwards it unchanged (Date is not interpreted).
        #expect(try SIPMessage(parsing: try torture("baddate")).header(.date) == "Fri, 01 Jan 2010 16:00:00 EST")
    }

    @Test func regbadctContactIsRejected() throws {
        let m = try SIPMessage(parsing: try torture("regbadct"))
        #expect(throws: SIPParseError(.badContact)) { try m.contacts() }
    }

    /// (file, expected reason, expected shouldReply400)
    static let invalid: [(String, SIPParseError.Reason, Bool)] = [
        // The Via does not parse, but the start line and Call-ID do: a 400 to the source address (issue 14).
        ("badinv01", .badVia, true),
        ("clerr", .contentLengthMismatch, true),
        ("ncl", .badContentLength, true),
        ("scalar02", .badCSeq, true),
        ("scalarlg", .badCSeq, false),
        ("quotbal", .badTo, true),
        ("ltgtruri", .badRequestURI, true),
        ("lwsruri", .badRequestURI, true),
        ("lwsstart", .badStartLine, true),
        ("trws", .badStartLine, true),
        ("escruri", .badRequestURI, true),
        ("badaspec", .badTo, true),
        ("baddn", .badFrom, true),
        ("badvers", .badVersion, true),
        ("mismatch01", .cseqMethodMismatch, true),
        ("mismatch02", .cseqMethodMismatch, true),
        ("bigcode", .badStatusCode, false),
        ("insuf", .missingHeader(.from), true),
        ("multi01", .duplicateHeader(.from), true),
        ("mcl01", .duplicateHeader(.contentLength), true),
    ]

    @Test(arguments: 0..<invalid.count)
    func invalidMessagesAreRejected(index: Int) throws {
        let (name, reason, reply) = Self.invalid[index]
        let bytes = try torture(name)
        do {
            let m = try SIPMessage(parsing: bytes)
            try m.validateForProxy()
            Issue.record("\(name) accepted")
        } catch {
            #expect(error.reason == reason, "\(name)")
            #expect(error.shouldReply400 == reply, "\(name)")
        }
    }

    @Test func scalar02OtherFieldsAlsoReported() throws {
        let m = try SIPMessage(parsing: try torture("scalar02"))
        #expect(throws: SIPParseError(.badMaxForwards)) { try m.maxForwards() }
    }
}
