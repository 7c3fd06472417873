import Testing
@testable import SIPCore

@Suite struct URITests {
    @Test func fullSIPURI() throws {
        let u = try SIPURI(parsing: "sips:alice:secret@atlanta.example.com:5061;transport=tls;lr;maddr=239.1.1.1;ttl=15;user=phone;method=INVITE?subject=project%20x&priority=urgent")
        #expect(u.isSecure)
        #expect(u.user == "alice")
        #expect(u.password == "secret")
        #expect(u.host == "atlanta.example.com")
        #expect(u.port == 5061)
        #expect(u.transport == "tls")
        #expect(u.isLooseRouter)
        #expect(u.maddr == "239.1.1.1")
        #expect(u.ttl == 15)
        #expect(u.userParam == "phone")
        #expect(u.methodParam == "INVITE")
        #expect(u.headers == [SIPParameter(name: "subject", value: "project%20x"), SIPParameter(name: "priority", value: "urgent")])
    }

    @Test func ipv6Hosts() throws {
        let u = try SIPURI(parsing: "sip:[2001:db8::10]:5070;transport=udp")
        #expect(u.host == "[2001:db8::10]")
        #expect(u.bareHost == "2001:db8::10")
        #expect(u.isIPv6)
        #expect(u.port == 5070)
        let v = try SIPURI(parsing: "sip:user@[::1]")
        #expect(v.bareHost == "::1")
        #expect(v.port == nil)
    }

    @Test func escapesAreDecodedInUserPart() throws {
        #expect(try SIPURI(parsing: "sip:sips%3Auser%40example.com@example.net").user == "sips:user@example.com")
        #expect(try SIPURI(parsing: "sip:null-%00-null@example.com").user == "null-\u{0}-null")
        #expect(try SIPURI(parsing: "sip:user;par=u%40example.net@example.com").user == "user;par=u@example.net")
        #expect(URIEscaping.unescape("a%20b%zz%4") == "a b%zz%4")
        #expect(throws: SIPParseError(.badURI)) { try SIPURI(parsing: "sip:bad%zzuser@example.com") }
    }

    @Test func roundTripAndRebuild() throws {
        let text = "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"
        var u = try SIPURI(parsing: text)
        #expect(u.description == text)
        #expect(u.user == "caller")
        u.port = 5080
        #expect(u.description == "sip:caller@host5.example.net:5080;%6C%72;n%61me=v%61lue%25%34%31")
        var w = SIPURI(user: "a b", host: "example.com", parameters: [SIPParameter(name: "lr")])
        #expect(w.description == "sip:a%20b@example.com;lr")
        w.headers = [SIPParameter(name: "h", value: "v")]
        #expect(w.description == "sip:a%20b@example.com;lr?h=v")
        let again = try SIPURI(parsing: w.description)
        #expect(again.user == "a b")
        #expect(again == w)
    }

    @Test func badSIPURIs() {
        for bad in ["sip:", "http://x", "sip:@host", "sip:user@", "sip:host:70000", "sip:host;", "sip:host?x", "sip:host junk", "sip:ho st"] {
            #expect(throws: SIPParseError(.badURI), "\(bad)") { try SIPURI(parsing: bad) }
        }
    }

    @Test func uriDispatch() throws {
        #expect(try URI(parsing: "sip:a@b").scheme == "sip")
        #expect(try URI(parsing: "SIPS:a@b").scheme == "sips")
        let tel = try URI(parsing: "tel:+1-201-555-0123;phone-context=example.com")
        guard case .tel(let t) = tel else { Issue.record("not tel"); return }
        #expect(t.isGlobal)
        #expect(t.parameters.value(of: "phone-context") == "example.com")
        #expect(tel.description == "tel:+1-201-555-0123;phone-context=example.com")
        #expect(try URI(parsing: "soap.beep://192.0.2.103:3002") == .other(scheme: "soap.beep", text: "soap.beep://192.0.2.103:3002"))
        #expect(try URI(parsing: "urn:service:sos").scheme == "urn")
        for bad in ["", "nocolon", "1abc:x", "<sip:a@b>", "sip:a b", "tel:", "tel:xyz"] {
            #expect(throws: SIPParseError(.badURI), "\(bad)") { try URI(parsing: bad) }
        }
    }

    @Test func requestURIAccessor() throws {
        let m = try SIPMessage(parsing: wire("INVITE sip:bob@[2001:db8::1]:5062;transport=tcp SIP/2.0\nVia: SIP/2.0/UDP h\n\n"))
        let u = try m.requestURI()?.sipURI
        #expect(u?.bareHost == "2001:db8::1")
        #expect(u?.port == 5062)
        #expect(u?.transport == "tcp")
    }
}
