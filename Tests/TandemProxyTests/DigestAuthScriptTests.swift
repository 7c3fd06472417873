import Foundation
import SIPCore
import TandemScript
import TandemServer
import TandemTestSupport
import Testing
@testable import TandemProxy

/// Digest authentication through the routing script, in memory (issue 16): challenge, then a REGISTER
/// and an INVITE answered with the right and wrong passwords, the password coming from an AVP.
@Suite struct DigestAuthScriptTests {
    let phone = SIPPeer(port: 5071)

    static let script = """
        route {
            $avp(password) = "wonderland";
            if (is_method("REGISTER")) {
                if (!pv_www_authorize("example.com")) {
                    $var(code) = $rc;
                    if ($var(code) == -2) { t_reply(403, "Wrong Password"); exit; }
                    if (is_present_hf("X-Algorithms")) { www_challenge("example.com", "auth", "SHA-256,MD5"); }
                    else { www_challenge("example.com", "auth"); }
                    exit;
                }
                if ($au != "alice" || $ar != "example.com") { t_reply(500, "Bad PV"); exit; }
                save("location");
                exit;
            }
            if (!pv_proxy_authorize("")) {
                proxy_challenge("", "auth");
                exit;
            }
            consume_credentials();
            if (is_present_hf("Proxy-Authorization")) { t_reply(500, "Credentials Kept"); exit; }
            t_reply(299, "Authorized");
        }
        """

    static let modules = """
        loadmodule "registrar.so"
        loadmodule "usrloc.so"
        loadmodule "auth.so"
        modparam("auth", "calculate_ha1", 1)
        modparam("auth", "secret", "test-secret")
        """

    func request(_ method: String, callID: String, cseq: Int, extra: String = "") -> [UInt8] {
        Array("""
            \(method) sip:example.com SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-\(callID)-\(cseq)\r
            From: <sip:alice@example.com>;tag=f\(cseq)\r
            To: <sip:alice@example.com>\r
            Call-ID: \(callID)\r
            CSeq: \(cseq) \(method)\r
            Max-Forwards: 70\r
            Contact: <sip:alice@127.0.0.1:5071>\r
            \(extra)Content-Length: 0\r
            \r

            """.utf8)
    }

    func final(_ memory: ScriptedMemoryProxy, _ bytes: [UInt8]) throws -> SIPMessage {
        memory.proxy.receive(bytes, from: phone.address)
        return try #require(memory.proxy.sent().last { ($0.status ?? 0) >= 200 }).message
    }

    /// The Authorization value answering `challenge` for `method` with `password`.
    func answer(_ challenge: String, method: String, password: String, algorithm: DigestAlgorithm = .md5,
                nc: String = "00000001") throws -> String {
        func field(_ name: String) -> String? {
            guard let range = challenge.firstRange(of: "\(name)=\"") else { return nil }
            let rest = challenge[range.upperBound...]
            return String(rest.prefix { $0 != "\"" })
        }
        let realm = try #require(field("realm")), nonce = try #require(field("nonce"))
        let header = """
            Digest username="alice", realm="\(realm)", nonce="\(nonce)", uri="sip:example.com", \
            algorithm=\(algorithm.rawValue), qop=auth, nc=\(nc), cnonce="0a4f113b", response="x"
            """
        var credentials = try #require(DigestCredentials(parsing: header))
        let ha1 = DigestAuth.ha1(algorithm, username: "alice", realm: realm, password: password)
        credentials.response = DigestAuth.expectedResponse(credentials, ha1: ha1, method: method)
        return header.replacingOccurrences(of: "response=\"x\"", with: "response=\"\(credentials.response)\"")
    }

    @Test("REGISTER: 401 with an MD5 challenge (qop auth), then 200 with the right password, 403 with a wrong one")
    func registerWithAuth() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let challenge = try final(memory, request("REGISTER", callID: "auth-1", cseq: 1))
        #expect(challenge.statusCode == 401)
        let offer = try #require(challenge.header(.wwwAuthenticate))
        #expect(offer.contains("realm=\"example.com\"") && offer.contains("qop=\"auth\"") && offer.contains("algorithm=MD5"))
        let good = try answer(offer, method: "REGISTER", password: "wonderland")
        let ok = try final(memory, request("REGISTER", callID: "auth-1", cseq: 2, extra: "Authorization: \(good)\r\n"))
        #expect(ok.statusCode == 200, "\(ok.reasonPhrase ?? "")")
        #expect(memory.server.core.location.contactCount == 1)
        let bad = try answer(offer, method: "REGISTER", password: "guess")
        #expect(try final(memory, request("REGISTER", callID: "auth-1", cseq: 3, extra: "Authorization: \(bad)\r\n"))
            .statusCode == 403)
    }

    @Test("SHA-256 when the challenge offers it; a forged nonce gets a fresh challenge")
    func sha256AndForgedNonce() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let challenge = try final(memory, request("REGISTER", callID: "auth-2", cseq: 1,
                                                  extra: "X-Algorithms: yes\r\n"))
        let offers = challenge.headerValues(.wwwAuthenticate)
        #expect(offers.count == 2)
        let sha = try #require(offers.first { $0.contains("algorithm=SHA-256") })
        let good = try answer(sha, method: "REGISTER", password: "wonderland", algorithm: .sha256)
        #expect(try final(memory, request("REGISTER", callID: "auth-2", cseq: 2, extra: "Authorization: \(good)\r\n"))
            .statusCode == 200)
        let forged = good.replacingOccurrences(of: "nonce=\"", with: "nonce=\"0")
        #expect(try final(memory, request("REGISTER", callID: "auth-2", cseq: 3, extra: "Authorization: \(forged)\r\n"))
            .statusCode == 401)
    }

    @Test("A retransmitted authenticated REGISTER (stateless script) gets 200 again; its credentials in another request get 401")
    func retransmittedRegister() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let challenge = try final(memory, request("REGISTER", callID: "auth-7", cseq: 1))
        let offer = try #require(challenge.header(.wwwAuthenticate))
        let good = try answer(offer, method: "REGISTER", password: "wonderland")
        let authorized = request("REGISTER", callID: "auth-7", cseq: 2, extra: "Authorization: \(good)\r\n")
        #expect(try final(memory, authorized).statusCode == 200)
        // The UA did not see the 200 and sends the same bytes again (UDP, Timer E): the same answer.
        let again = try final(memory, authorized)
        #expect(again.statusCode == 200, "\(again.statusCode ?? 0) \(again.reasonPhrase ?? "")")
        #expect(memory.server.core.location.contactCount == 1)
        // The same credentials in a new request (next CSeq, new branch): a replay, challenged anew as
        // OpenSIPS's nonce reuse check does (stale nonce, $rc -3).
        let replay = request("REGISTER", callID: "auth-7", cseq: 3, extra: "Authorization: \(good)\r\n")
        #expect(try final(memory, replay).statusCode == 401)
        // From another dialog with the same Via branch: still a replay (the identity is Call-ID, CSeq and branch).
        let forged = String(decoding: request("REGISTER", callID: "auth-8", cseq: 2, extra: "Authorization: \(good)\r\n"),
                            as: UTF8.self).replacingOccurrences(of: "z9hG4bK-auth-8-2", with: "z9hG4bK-auth-7-2")
        #expect(try final(memory, Array(forged.utf8)).statusCode == 401)
    }

    @Test("INVITE: 407 Proxy-Authenticate; with credentials authorized and consumed; a replay challenged again")
    func proxyAuth() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let challenge = try final(memory, request("INVITE", callID: "auth-3", cseq: 1))
        #expect(challenge.statusCode == 407)
        let offer = try #require(challenge.header(.proxyAuthenticate))
        let good = try answer(offer, method: "INVITE", password: "wonderland")
        let ok = try final(memory, request("INVITE", callID: "auth-4", cseq: 1, extra: "Proxy-Authorization: \(good)\r\n"))
        #expect(ok.statusCode == 299, "\(ok.reasonPhrase ?? "")")
        // The same credentials again (same nonce and nc): a replay, challenged anew.
        let replay = try final(memory, request("INVITE", callID: "auth-5", cseq: 1,
                                               extra: "Proxy-Authorization: \(good)\r\n"))
        #expect(replay.statusCode == 407)
        // The next nonce count with a fresh response is accepted.
        let next = try answer(offer, method: "INVITE", password: "wonderland", nc: "00000002")
        #expect(try final(memory, request("INVITE", callID: "auth-6", cseq: 1,
                                          extra: "Proxy-Authorization: \(next)\r\n")).statusCode == 299)
    }
}
