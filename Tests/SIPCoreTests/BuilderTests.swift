import Testing
@testable import SIPCore

@Suite struct BuilderTests {
    @Test func cancelAndAck() throws {
        var req = try SIPMessage(parsing: sampleInvite)
        req.prependHeader(.via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1")
        req.setRequestURI("sip:bob@192.0.2.4")
        let cancel = try SIPMessage(parsing: try #require(SIPMessage.makeCancel(for: req)))
        #expect(cancel.method == .cancel)
        #expect(cancel.requestURIText == "sip:bob@192.0.2.4")
        #expect(try cancel.vias().map(\.branch) == ["z9hG4bKp1"])
        #expect(try cancel.cseq() == CSeq(number: 1, method: .cancel))
        #expect(try cancel.routes().count == 2)
        #expect(cancel.callID == req.callID)
        #expect(try cancel.from().tag == "9fxced76sl")
        try cancel.validateForProxy()

        let resp = try SIPMessage(parsing: SIPMessage.makeResponse(to: req, status: 486, toTag: "uas9"))
        let ack = try SIPMessage(parsing: try #require(SIPMessage.makeAck(for: req, response: resp)))
        #expect(ack.method == .ack)
        #expect(try ack.to().tag == "uas9")
        #expect(try ack.cseq() == CSeq(number: 1, method: .ack))
        #expect(try ack.topVia().branch == "z9hG4bKp1")
        try ack.validateForProxy()
        #expect(SIPMessage.makeCancel(for: resp) == nil)
    }

    @Test func uriEquivalenceRFC3261Examples() throws {
        func eq(_ a: String, _ b: String) throws -> Bool { try SIPURI(parsing: a).isEquivalent(to: SIPURI(parsing: b)) }
        #expect(try eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"))
        #expect(try eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"))
        #expect(try eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"))
        #expect(try eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                       "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"))
        #expect(try eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                       "sip:alice@atlanta.com?priority=urgent&subject=project%20x"))
        #expect(try !eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"))
        #expect(try !eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"))
        #expect(try !eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"))
        #expect(try !eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"))
        #expect(try !eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"))
        #expect(try !eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"))
        #expect(try !eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"))
    }
}
