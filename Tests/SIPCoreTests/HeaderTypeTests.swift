import Testing
@testable import SIPCore

@Suite struct HeaderTypeTests {
    @Test func viaFields() throws {
        let v = try Via(parsing: "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKabc;received=10.0.0.1;rport=5070;maddr=224.0.0.1;ttl=16;x=y;flag")
        #expect(v.protocolName == "SIP")
        #expect(v.protocolVersion == "2.0")
        #expect(v.transport == "UDP")
        #expect(v.host == "192.0.2.1")
        #expect(v.port == 5062)
        #expect(v.branch == "z9hG4bKabc")
        #expect(v.received == "10.0.0.1")
        #expect(v.rport == .value(5070))
        #expect(v.maddr == "224.0.0.1")
        #expect(v.ttl == 16)
        #expect(v.parameters.value(of: "x") == "y")
        #expect(v.parameters.value(of: "flag") == .some(nil))
        #expect(v.hasMagicCookie)
        #expect(v.sentBy == "192.0.2.1:5062")
    }

    @Test func viaRportStatesAndIPv6() throws {
        #expect(try Via(parsing: "SIP/2.0/UDP h").rport == .absent)
        #expect(try Via(parsing: "SIP/2.0/UDP h;rport").rport == .requested)
        let v6 = try Via(parsing: "SIP/2.0/TCP [2001:db8::9:1]:5061;branch=z9hG4bKx;received=[2001:db8::9:255]")
        #expect(v6.host == "[2001:db8::9:1]")
        #expect(v6.port == 5061)
        #expect(v6.received == "[2001:db8::9:255]")
        let spaced = try Via(parsing: "SIP / 2.0 / TCP   spindle.example.com   ;  branch  =   z9hG4bK9ikj8")
        #expect(spaced.transport == "TCP")
        #expect(spaced.host == "spindle.example.com")
        #expect(spaced.branch == "z9hG4bK9ikj8")
        var edited = try Via(parsing: "SIP/2.0/UDP h;rport;branch=z9hG4bK1")
        edited.rport = .value(1234)
        edited.received = "1.2.3.4"
        #expect(edited.description == "SIP/2.0/UDP h;rport=1234;branch=z9hG4bK1;received=1.2.3.4")
    }

    @Test func badViasAreRejected() {
        for bad in ["", "SIP/2.0/UDP", "SIP/2.0 h", "SIP/2.0/UDP h;;", "SIP/2.0/UDP h;branch=", "SIP/2.0/UDP h:99999",
                    "SIP/2.0/UDP h;ttl=300", "SIP/2.0/UDP [::1", "SIP/2.0/UDP h junk"] {
            #expect(throws: SIPParseError(.badVia), "\(bad)") { try Via(parsing: bad) }
        }
    }

    @Test func cseq() throws {
        let c = try CSeq(parsing: "  0042 \t INVITE ")
        #expect(c.number == 42)
        #expect(c.method == .invite)
        #expect(try CSeq(parsing: "1 FOO").method == .other("FOO"))
        for bad in ["", "INVITE", "1", "1INVITE", "2147483648 INVITE", "-1 INVITE", "1 INVITE x"] {
            #expect(throws: SIPParseError(.badCSeq), "\(bad)") { try CSeq(parsing: bad) }
        }
        #expect(try CSeq(parsing: "2147483647 ACK").number == 2_147_483_647)
    }

    @Test func nameAddrForms() throws {
        let a = try NameAddr(parsing: "\"Alice \\\"A\\\"\" <sip:alice@example.com>;tag=abc;x")
        #expect(a.displayName == "Alice \"A\"")
        #expect(a.uriText == "sip:alice@example.com")
        #expect(a.tag == "abc")
        #expect(a.parameters.count == 2)
        let b = try NameAddr(parsing: "Bob Smith<sip:bob@example.com>")
        #expect(b.displayName == "Bob Smith")
        let c = try NameAddr(parsing: "sip:carol@example.com;tag=1")
        #expect(c.displayName == nil)
        #expect(c.uriText == "sip:carol@example.com")
        #expect(c.tag == "1")
        #expect(c.uri.sipURI?.user == "carol")
        let t = try NameAddr(parsing: "<tel:+1-201-555-0123>")
        if case .tel(let tel) = t.uri { #expect(tel.number == "+1-201-555-0123") } else { Issue.record("not tel") }
        var d = try NameAddr(parsing: "<sip:x@y>")
        d.tag = "zz"
        #expect(d.description == "<sip:x@y>;tag=zz")
        for bad in ["\"unterminated <sip:a@b>", "< sip:a@b >", "Bell, Alexander <sip:a@b>", "sip:a@b?x=y", "<sip:a@b", "", "<>"] {
            #expect(throws: SIPParseError.self, "\(bad)") { try NameAddr(parsing: bad) }
        }
    }

    @Test func typedAccessorsOnMessage() throws {
        let m = try SIPMessage(parsing: sampleInvite)
        let via = try m.topVia()
        #expect(via.host == "client.atlanta.example.com")
        #expect(via.port == 5060)
        #expect(via.rport == .requested)
        #expect(try m.cseq() == CSeq(number: 1, method: .invite))
        #expect(try m.from().displayName == "Alice")
        #expect(try m.from().tag == "9fxced76sl")
        #expect(try m.to().tag == nil)
        #expect(try m.maxForwards() == 70)
        #expect(try m.contacts().first?.uri.sipURI?.transport == "udp")
        let routes = try m.routes()
        #expect(routes.map(\.uriText) == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"])
        #expect(routes.allSatisfy { $0.uri.sipURI?.isLooseRouter == true })
        #expect(try m.recordRoutes().isEmpty)
        #expect(!m.isWildcardContact)
    }

    @Test func wildcardContactAndMaxForwardsErrors() throws {
        let m = try SIPMessage(parsing: wire("REGISTER sip:r SIP/2.0\nContact: *\nMax-Forwards: abc\nExpires: 0\n\n"))
        #expect(m.isWildcardContact)
        #expect(try m.contacts().isEmpty)
        #expect(throws: SIPParseError(.badMaxForwards)) { try m.maxForwards() }
        #expect(throws: SIPParseError(.missingHeader(.via))) { try m.topVia() }
    }

    @Test func methods() {
        #expect(SIPMethod("INVITE") == .invite)
        #expect(SIPMethod("invite") == .other("invite"))
        #expect(SIPMethod("PUBLISH")?.name == "PUBLISH")
        #expect(SIPMethod("BAD METHOD") == nil)
        #expect(SIPMethod("") == nil)
        for m: SIPMethod in [.invite, .ack, .bye, .cancel, .register, .options, .prack, .subscribe, .notify, .publish, .info, .refer, .message, .update] {
            #expect(SIPMethod(m.name) == m)
        }
    }
}
