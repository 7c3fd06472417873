import Foundation
import Reactor
import SIPCore
import TandemServer
import TandemTestSupport
import Testing
@testable import TandemProxy

/// The registrar and location service in memory (issue 16): `save`, `lookup`, `is_registered`,
/// `remove` through the routing script, expiry on the manual clock.
@Suite struct RegistrarTests {
    let phone1 = SIPPeer(port: 5071)
    let phone2 = SIPPeer(port: 5072)
    let caller = SIPPeer(port: 5073)

    static let modules = """
        loadmodule "registrar.so"
        loadmodule "usrloc.so"
        modparam("registrar", "min_expires", 60)
        modparam("registrar", "max_expires", 600)
        modparam("registrar", "max_contacts", 3)
        """

    static let script = """
        route {
            if (is_method("REGISTER")) {
                if ($hdr(X-Path-Mode) == "strict") { save("location", "p2"); exit; }
                save("location");
                exit;
            }
            if (is_method("OPTIONS")) {
                if (is_registered("location")) { t_reply(200, "Registered"); } else { t_reply(404, "Not Registered"); }
                exit;
            }
            if (is_method("MESSAGE")) {
                if (remove("location", "$ru")) { t_reply(200, "Removed"); } else { t_reply(404, "Nothing To Remove"); }
                exit;
            }
            lookup("location");
            switch ($rc) {
            case -1: t_reply(404, "Not Found"); exit;
            case -2: t_reply(405, "Method Not Allowed"); exit;
            case -3: t_reply(500, "Server Internal Error"); exit;
            }
            t_relay();
        }
        """

    /// A REGISTER from `peer` for alice with `contacts` (header values) and optional headers.
    func register(from peer: SIPPeer, contacts: [String], expires: Int? = nil, callID: String, cseq: Int,
                  extra: String = "") -> [UInt8] {
        var headers = ""
        for contact in contacts { headers += "Contact: \(contact)\r\n" }
        if let expires { headers += "Expires: \(expires)\r\n" }
        return Array("""
            REGISTER sip:127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP \(peer.address.ip):\(peer.address.port);branch=z9hG4bK-\(callID)-\(cseq)\r
            From: <sip:alice@example.com>;tag=r\(cseq)\r
            To: <sip:alice@example.com>\r
            Call-ID: \(callID)\r
            CSeq: \(cseq) REGISTER\r
            Max-Forwards: 70\r
            \(headers)\(extra)Content-Length: 0\r
            \r

            """.utf8)
    }

    func reply(_ memory: ScriptedMemoryProxy, _ bytes: [UInt8], from peer: SIPPeer) throws -> SIPMessage {
        memory.proxy.receive(bytes, from: peer.address)
        let sent = memory.proxy.sent()
        let final = try #require(sent.last { $0.status.map { $0 >= 200 } ?? false }, "\(sent.map(\.status))")
        #expect(final.destination == peer.address)
        return final.message
    }

    @Test("save: 200 lists every current contact with its expires; q kept; max_expires caps; Expires 0 removes")
    func saveAndList() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        var ok = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>;q=0.5"],
                                            expires: 120, callID: "reg-a", cseq: 1), from: phone1)
        #expect(ok.statusCode == 200)
        #expect(ok.headerValues(.contact) == ["<sip:alice@127.0.0.1:5071>;expires=120;q=0.5"])
        ok = try reply(memory, register(from: phone2, contacts: ["<sip:alice@127.0.0.1:5072;transport=udp>;expires=3600"],
                                        callID: "reg-b", cseq: 1), from: phone2)
        #expect(ok.statusCode == 200)
        let listed = ok.headerValues(.contact)
        #expect(listed.count == 2)
        #expect(listed.contains("<sip:alice@127.0.0.1:5072;transport=udp>;expires=600"))  // max_expires 600
        #expect(memory.server.core.location.contactCount == 2)
        // Expires: 0 on one contact removes only that binding.
        ok = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>"], expires: 0,
                                        callID: "reg-a", cseq: 2), from: phone1)
        #expect(ok.headerValues(.contact) == ["<sip:alice@127.0.0.1:5072;transport=udp>;expires=600"])
        // A REGISTER without Contact is a query: it lists the bindings, changes nothing.
        ok = try reply(memory, register(from: phone1, contacts: [], callID: "reg-c", cseq: 1), from: phone1)
        #expect(ok.statusCode == 200 && ok.headerValues(.contact).count == 1)
    }

    @Test("save: 423 with Min-Expires below min_expires; * with Expires 0 removes all; * otherwise 400; max_contacts 503")
    func saveErrors() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let brief = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>"], expires: 30,
                                               callID: "err-a", cseq: 1), from: phone1)
        #expect(brief.statusCode == 423)
        #expect(brief.header(.minExpires) == "60")
        let three = ["<sip:a1@127.0.0.1:6001>", "<sip:a2@127.0.0.1:6002>", "<sip:a3@127.0.0.1:6003>"]
        #expect(try reply(memory, register(from: phone1, contacts: three, expires: 300, callID: "err-b", cseq: 1),
                          from: phone1).statusCode == 200)
        let four = try reply(memory, register(from: phone1, contacts: ["<sip:a4@127.0.0.1:6004>"], expires: 300,
                                              callID: "err-c", cseq: 1), from: phone1)
        #expect(four.statusCode == 503)
        #expect(memory.server.core.location.contactCount == 3)
        let badStar = try reply(memory, register(from: phone1, contacts: ["*"], expires: 300, callID: "err-d", cseq: 1),
                                from: phone1)
        #expect(badStar.statusCode == 400)
        let star = try reply(memory, register(from: phone1, contacts: ["*"], expires: 0, callID: "err-e", cseq: 1),
                             from: phone1)
        #expect(star.statusCode == 200 && star.headerValues(.contact).isEmpty)
        #expect(memory.server.core.location.contactCount == 0)
    }

    @Test("save with Path: stored, returned with p2, 420 when the UA does not support path; lookup routes along it")
    func pathSupport() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let path = "Path: <sip:127.0.0.1:5099;lr>\r\nX-Path-Mode: strict\r\n"
        let refused = try reply(memory, register(from: phone1, contacts: ["<sip:alice@10.0.0.1:5071>"], expires: 300,
                                                 callID: "path-a", cseq: 1, extra: path), from: phone1)
        #expect(refused.statusCode == 420)
        let ok = try reply(memory, register(from: phone1, contacts: ["<sip:alice@10.0.0.1:5071>"], expires: 300,
                                            callID: "path-a", cseq: 2, extra: path + "Supported: path\r\n"),
                           from: phone1)
        #expect(ok.statusCode == 200)
        #expect(ok.headerValues(.path) == ["<sip:127.0.0.1:5099;lr>"])
        memory.proxy.receive(caller.request("INVITE", uri: "sip:alice@example.com", branch: "z9hG4bK-path-inv",
                                            callID: "path-inv"), from: caller.address)
        let invite = try #require(memory.proxy.sent().first { $0.method == .invite && $0.status == nil })
        #expect(invite.destination == SocketAddress(ip: "127.0.0.1", port: 5099)!)
        #expect(invite.message.requestURIText == "sip:alice@10.0.0.1:5071")
        #expect(invite.message.headerValues(.route) == ["<sip:127.0.0.1:5099;lr>"])
    }

    @Test("lookup: best q to the R-URI, the other contact forked in parallel; no received without fix_nated_register")
    func lookupForks() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        _ = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>;q=0.2"], expires: 300,
                                       callID: "lk-a", cseq: 1), from: phone1)
        // The Contact names another address than the REGISTER's source: without fix_nated_register() (see
        // NathelperTests) nothing is recorded as received, so the request goes to the Contact (OpenSIPS 3.6).
        _ = try reply(memory, register(from: phone2, contacts: ["<sip:alice@192.168.1.20:5060>;q=0.9"], expires: 300,
                                       callID: "lk-b", cseq: 1), from: phone2)
        memory.proxy.receive(caller.request("INVITE", uri: "sip:alice@example.com", branch: "z9hG4bK-lk-inv",
                                            callID: "lk-inv"), from: caller.address)
        let sent = memory.proxy.sent()
        #expect(sent.map(\.status) == [100, nil, nil])
        #expect(sent[1].destination == SocketAddress(ip: "192.168.1.20", port: 5060)!)  // q 0.9 first
        #expect(sent[1].message.requestURIText == "sip:alice@192.168.1.20:5060")
        #expect(sent[2].destination == phone1.address)
        #expect(sent[2].message.requestURIText == "sip:alice@127.0.0.1:5071")
    }

    @Test("lookup -1 for an unknown AOR (404); contacts expire on the clock; is_registered and remove")
    func expiryAndQueries() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let proxy = memory.proxy
        func status(_ method: String, _ uri: String, _ id: String) throws -> Int? {
            proxy.receive(caller.request(method, uri: uri, branch: "z9hG4bK-\(id)", callID: id), from: caller.address)
            return proxy.sent().last { ($0.status ?? 0) >= 200 }?.status
        }
        #expect(try status("INVITE", "sip:nobody@example.com", "q-1") == 404)
        _ = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>"], expires: 60,
                                       callID: "q-reg", cseq: 1), from: phone1)
        #expect(try status("OPTIONS", "sip:alice@example.com", "q-2") == 200)
        proxy.advance(byMilliseconds: 61_000)
        #expect(try status("OPTIONS", "sip:alice@example.com", "q-3") == 404)
        #expect(try status("INVITE", "sip:alice@example.com", "q-4") == 404)
        #expect(memory.server.core.location.contactCount == 0)  // the sweep purged it
        _ = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>"], expires: 60,
                                       callID: "q-reg", cseq: 2), from: phone1)
        #expect(try status("MESSAGE", "sip:alice@example.com", "q-5") == 200)
        #expect(try status("MESSAGE", "sip:alice@example.com", "q-6") == 404)
        #expect(try status("OPTIONS", "sip:alice@example.com", "q-7") == 404)
    }

    @Test("A REGISTER repeated with the same Call-ID and an older CSeq changes nothing")
    func staleCSeq() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        _ = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>"], expires: 300,
                                       callID: "cs", cseq: 5), from: phone1)
        let old = try reply(memory, register(from: phone1, contacts: ["<sip:alice@127.0.0.1:5071>"], expires: 0,
                                             callID: "cs", cseq: 4), from: phone1)
        #expect(old.headerValues(.contact).count == 1)
    }

    @Test("q-values parse and print as OpenSIPS writes them")
    func qValues() {
        #expect(BranchTarget.parseQ("0.5") == 500)
        #expect(BranchTarget.parseQ("1") == 1000)
        #expect(BranchTarget.parseQ("1.0") == 1000)
        #expect(BranchTarget.parseQ(".25") == 250)
        #expect(BranchTarget.parseQ("1.5") == nil)
        #expect(BranchTarget.parseQ("x") == nil)
        #expect(BranchTarget.formatQ(500) == "0.5")
        #expect(BranchTarget.formatQ(1000) == "1")
        #expect(BranchTarget.formatQ(5) == "0.005")
    }
}

/// `reg_fetch_contacts` and `$ulc(profile=>attr)[i]` (in memory).
@Suite struct UlcTests {
    @Test("reg_fetch_contacts fills $ulc: count, aor, each contact's addr/q/expires best first; -1 and count 0 when none")
    func fetchContacts() throws {
        let script = """
            route {
                if (is_method("REGISTER")) { save("location"); exit; }
                if (reg_fetch_contacts("location", "$ru", "p")) {
                    t_reply(200, "n=$ulc(p=>count) aor=$ulc(p=>aor) first=$ulc(p=>addr)[0] q=$ulc(p=>q)[0] second=$ulc(p=>addr)[1] ua=$ulc(p=>user_agent)[1]");
                    exit;
                }
                t_reply(404, "n=$ulc(p=>count)");
            }
            """
        let memory = try ScriptedMemoryProxy(script, modules: RegistrarTests.modules)
        let tests = RegistrarTests()
        let phone = tests.phone1
        _ = try tests.reply(memory, tests.register(from: phone, contacts: ["<sip:alice@127.0.0.1:5071>;q=0.5",
                                                                           "<sip:alice@127.0.0.1:5072>;q=0.9"],
                                                   expires: 300, callID: "ulc-1", cseq: 1,
                                                   extra: "User-Agent: deskphone\r\n"), from: phone)
        let invite = Array("""
            OPTIONS sip:alice@example.com SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:5073;branch=z9hG4bK-ulc-2\r
            From: <sip:carol@example.com>;tag=c\r
            To: <sip:alice@example.com>\r
            Call-ID: ulc-2\r
            CSeq: 1 OPTIONS\r
            Max-Forwards: 70\r
            Content-Length: 0\r
            \r

            """.utf8)
        let found = try tests.reply(memory, invite, from: tests.caller)
        #expect(found.reasonPhrase == "n=2 aor=alice first=sip:alice@127.0.0.1:5072 q=0.9 second=sip:alice@127.0.0.1:5071 ua=deskphone")
        let none = try tests.reply(memory, Array(String(decoding: invite, as: UTF8.self)
            .replacingOccurrences(of: "sip:alice@example.com SIP", with: "sip:nobody@example.com SIP")
            .replacingOccurrences(of: "ulc-2", with: "ulc-3").utf8), from: tests.caller)
        #expect(none.statusCode == 404 && none.reasonPhrase == "n=0")
    }
}
