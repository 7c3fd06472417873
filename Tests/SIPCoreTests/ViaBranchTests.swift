import Foundation
@testable import SIPCore
import TandemTestSupport
import Testing

/// `Via.branch(ofValid:)` (the branch of every reply, without building the Via) accepts and rejects as
/// `Via(parsing:)` does, with the same error, and reads the same branch.
@Suite struct ViaBranchTests {
    static let corpus = [
        "SIP/2.0/UDP 127.0.0.1:15080;branch=z9hG4bK-1-2", "SIP/2.0/UDP host", "SIP / 2.0 / TCP h : 5060 ;branch = x",
        "SIP/2.0/UDP h;BRANCH=a;branch=b", "SIP/2.0/UDP h;branch", "SIP/2.0/UDP h;branch;branch=c", "SIP/2.0/UDP h;branch=",
        "SIP/2.0/UDP [2001:db8::1]:5060;rport;received=1.2.3.4;branch=z9hG4bKx", "SIP/2.0/UDP h;rport=99999",
        "SIP/2.0/UDP h;rport=5060;rport=x", "SIP/2.0/UDP h;ttl=255;branch=q", "SIP/2.0/UDP h;ttl=256", "SIP/2.0/UDP h;ttl=+5",
        "SIP/2.0/UDP h;TTL=-0", "SIP/2.0/UDP h:70000", "SIP/2.0/UDP h:", "SIP/2.0/UDP", "SIP/2.0/UDPh", "SIP/2.0 UDP h",
        "SIP/2.0/UDP h;;branch=x", "SIP/2.0/UDP h;branch=\"q\"", "SIP/2.0/UDP h;maddr=[::1];branch=z", "SIP/2.0/UDP h junk",
        "", " ", "SIP/2.0/UDP h;branch=a b",
    ]

    @Test func agreesWithParsedVia() {
        let alphabet = Array(";=:/ [].-+0aZ9\"\t".utf8)
        let inputs = Self.corpus.map { Array($0.utf8) }
            + CorpusMutations.make(Self.corpus, alphabet: alphabet, seed: 0xD1B5_4A32_D192_ED03, count: 20_000)
        for bytes in inputs {
            let text = String(decoding: bytes, as: UTF8.self)
            var expected: Result<String?, SIPParseError>
            do { expected = .success(try Via(parsing: bytes[...]).branch) } catch { expected = .failure(error) }
            var got: Result<String?, SIPParseError>
            do { got = .success(try Via.branch(ofValid: bytes[...])) } catch { got = .failure(error) }
            #expect(got == expected, "\(text)")
        }
    }

    @Test func topViaBranchOfMessage() throws {
        let text = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
            + "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        let message = try SIPMessage(parsing: Array(text.utf8))
        #expect(try message.topViaBranch() == message.topVia().branch)
        let noVia = try SIPMessage(parsing: Array(text.replacingOccurrences(of: "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n", with: "").utf8))
        #expect(throws: SIPParseError(.missingHeader(.via))) { try noVia.topViaBranch() }
    }
}
