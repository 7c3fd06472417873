import Foundation
import SIPCore

/// Turns a multi-line literal into CRLF-terminated bytes.
func wire(_ s: String) -> [UInt8] {
    Array(s.replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

/// A typical INVITE (~600 bytes) used across tests.
let sampleInvite = wire("""
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport
Max-Forwards: 70
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=udp>
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Content-Type: application/sdp
Content-Length: 151

v=0
o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0
a=rtpmap:0 PCMU/8000

""")

/// Loads an RFC 4475 torture message from the test bundle.
func torture(_ name: String) throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "dat", subdirectory: "Torture") else {
        throw CocoaError(.fileNoSuchFile)
    }
    return Array(try Data(contentsOf: url))
}

/// Parses and returns the error reason, or nil if parsing succeeded.
func parseError(_ bytes: [UInt8]) -> SIPParseError? {
    do {
        _ = try SIPMessage(parsing: bytes)
        return nil
    } catch {
        return error
    }
}
