@testable import SIPCore
import TandemTestSupport
import Testing

/// `SIPURIAddress` and `RouteSetSummary` (the next hop and `loose_route()` without building URIs or
/// name-addrs) read what the full parsers read: `requestURI()?.sipURI` and `routes()`.
@Suite struct SIPURIAddressTests {
    static let uriCorpus = URIValidationTests.corpus + [
        "sip:h;maddr=10.0.0.1", "sip:h;MADDR=[::1];maddr=x", "sip:h;maddr;maddr=1.2.3.4", "sip:h;maddr=",
        "sips:[::1]:5061;lr;transport=tls", "sip:u@h;m@ddr=1", "sip:u:p@h:1;x;maddr=a.b?h=v", "sip:[::1]",
        "sip:[]", "sip:[[::1]", "sip:a@1.2.3.4:0;maddr=%31",
    ]

    static func expectedAddress(_ bytes: [UInt8]) -> SIPURIAddress? {
        guard case .sip(let uri)? = try? URI(parsing: bytes[...]) else { return nil }
        return SIPURIAddress(uri)
    }

    @Test func uriAddressAgreesWithParsing() {
        let alphabet = Array("@:;=?&%[]<>\" .-_+0aZ9m\t".utf8)
        let inputs = Self.uriCorpus.map { Array($0.utf8) }
            + CorpusMutations.make(Self.uriCorpus, alphabet: alphabet, seed: 0x9E37_79B9_7F4A_7C15, count: 20_000)
        for bytes in inputs {
            #expect(SIPURIAddress.read(bytes[...]) == Self.expectedAddress(bytes),
                    "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    static func request(uri: String, headers: String) -> String {
        "BYE \(uri) SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n\(headers)"
            + "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    }

    static let messageCorpus: [String] = [
        request(uri: "sip:bob@10.0.0.2:5070", headers: "Route: <sip:127.0.0.1:15060;lr>\r\n"),
        request(uri: "sip:bob@10.0.0.2", headers: "Route: <sip:127.0.0.1;lr>, <sip:10.0.0.9;lr;maddr=10.0.0.8>\r\n"),
        request(uri: "sips:bob@[::1]:5061", headers: "Route: \"P\" <sips:[::1];lr>;x=1\r\nRoute: <sip:b;lr>\r\n"),
        request(uri: "sip:127.0.0.1:15060;lr", headers: "Route: <sip:a;lr>,\r\n <sip:b;lr>\r\nroute: sip:c\r\n"),
        request(uri: "tel:+123", headers: "Route: <tel:+1>, <sip:x>\r\nRoute:\r\n"),
        request(uri: "sip:x", headers: "Route: <urn:x>\r\n"),
        request(uri: "sip:x;maddr=1.2.3.4", headers: ""),
        request(uri: "http://x", headers: "Route: <sip:a;lr>;p=\"q,r\", <sip:b>\r\n"),
    ]

    static func expectedSummary(_ message: SIPMessage) -> RouteSetSummary? {
        guard let routes = try? message.routes() else { return nil }
        return RouteSetSummary(count: routes.count, first: routes.first?.uri.sipURI.map(SIPURIAddress.init))
    }

    @Test func messageReadsAgreeWithParsing() throws {
        let alphabet = Array("@:;=<>,\" .[]0aZ9m\t".utf8)
        let inputs = Self.messageCorpus.map { Array($0.utf8) }
            + CorpusMutations.make(Self.messageCorpus, alphabet: alphabet, seed: 0x2545_F491_4F6C_DD1D, count: 20_000)
        var checked = 0
        for bytes in inputs {
            guard var message = try? SIPMessage(parsing: bytes) else { continue }
            checked += 1
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(message.requestSIPURIAddress() == (try? message.requestURI())?.sipURI.map(SIPURIAddress.init),
                    "\(text)")
            // loose_route() drops the first Route value while the summary's first names us: after each
            // drop, the summary is that of the remaining values.
            var expected = try? message.routes()
            #expect(message.routeSetSummary() == Self.expectedSummary(message), "\(text)")
            while var remaining = expected, !remaining.isEmpty {
                message.dropFirstValue(.route)
                remaining.removeFirst()
                expected = remaining
                let summary = message.routeSetSummary()
                #expect(summary == RouteSetSummary(count: remaining.count,
                                                   first: remaining.first?.uri.sipURI.map(SIPURIAddress.init)),
                        "\(text)")
            }
        }
        #expect(checked > 5_000)
    }

    @Test func requestURIEditIsRead() throws {
        var message = try SIPMessage(parsing: Array(Self.messageCorpus[0].utf8))
        message.setRequestURI("sips:x@[2001:db8::1]:7;maddr=h")
        #expect(message.requestSIPURIAddress()
            == SIPURIAddress(isSecure: true, host: "[2001:db8::1]", port: 7, maddr: "h"))
    }
}
