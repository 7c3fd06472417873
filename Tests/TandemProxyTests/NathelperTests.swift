import Reactor
import SIPCore
import TandemServer
import TandemTestSupport
import Testing
@testable import TandemProxy

/// nathelper basics and the registrar's `received` (issue 16): `received` is stored and returned only
/// when the script asked for it (`fix_nated_register()`, the registrar's `received_avp`), as in OpenSIPS
/// 3.6; `nat_uac_test`, `fix_nated_contact`, `add_rcv_param`; Allow (`methods`) with lookup flag `m`;
/// `+sip.instance`/`reg-id` in the 200.
@Suite struct NathelperTests {
    let phone = SIPPeer(port: 5072)
    let caller = SIPPeer(port: 5073)

    static let modules = """
        loadmodule "registrar.so"
        loadmodule "usrloc.so"
        loadmodule "nathelper.so"
        modparam("nathelper", "received_avp", "$avp(rcv)")
        modparam("registrar", "received_avp", "$avp(rcv)")
        """

    /// REGISTER routes chosen by the user part of the To URI; other requests are looked up (flag `m`
    /// for MESSAGE) and relayed; OPTIONS answers nat_uac_test with the flags in X-Flags.
    static let script = """
        route {
            if (is_method("OPTIONS")) {
                if (nat_uac_test($hdr(X-Flags))) { t_reply(200, "NATed"); } else { t_reply(404, "Not NATed"); }
                exit;
            }
            if (is_method("REGISTER")) {
                if ($tU == "nat") { fix_nated_register(); }
                if ($tU == "avp") { $avp(rcv) = "sip:127.0.0.1:5099"; }
                if ($tU == "fixed") { fix_nated_contact(";nat=yes"); }
                if ($tU == "rcv") { add_rcv_param(1); }
                save("location");
                exit;
            }
            if (is_method("MESSAGE")) { lookup("location", "m"); } else { lookup("location"); }
            switch ($rc) {
            case -1: t_reply(404, "Not Found"); exit;
            case -2: t_reply(405, "Method Not Allowed"); exit;
            }
            t_relay();
        }
        """

    func register(_ user: String, contact: String, extra: String = "", cseq: Int = 1) -> [UInt8] {
        Array("""
            REGISTER sip:127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-\(user)-reg\r
            From: <sip:\(user)@example.com>;tag=r1\r
            To: <sip:\(user)@example.com>\r
            Call-ID: \(user)-reg\r
            CSeq: \(cseq) REGISTER\r
            Max-Forwards: 70\r
            Contact: \(contact)\r
            Expires: 300\r
            \(extra)Content-Length: 0\r
            \r

            """.utf8)
    }

    func saved(_ memory: ScriptedMemoryProxy, _ user: String, contact: String = "<sip:u@192.168.1.20:5060>",
               extra: String = "") throws -> SIPMessage {
        memory.proxy.receive(register(user, contact: contact, extra: extra), from: phone.address)
        let reply = try #require(memory.proxy.sent().last { ($0.status ?? 0) >= 200 })
        #expect(reply.status == 200)
        return reply.message
    }

    /// The INVITE (or `method`) relayed for `user`, nil when none went out.
    func relayed(_ memory: ScriptedMemoryProxy, _ user: String, method: String = "INVITE") -> SentMessage? {
        memory.proxy.receive(caller.request(method, uri: "sip:\(user)@example.com", branch: "z9hG4bK-\(user)-\(method)",
                                            callID: "\(user)-\(method)"), from: caller.address)
        return memory.proxy.sent().first { $0.message.method?.name == method && $0.status == nil }
    }

    @Test("no fix_nated_register: no received stored or returned; requests go to the Contact")
    func noReceivedUnlessAsked() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let ok = try saved(memory, "plain")
        #expect(ok.headerValues(.contact).first?.contains("received") == false)
        #expect(memory.server.core.location.contacts(of: "plain", now: 0).first?.received == nil)
        let invite = try #require(relayed(memory, "plain"))
        #expect(invite.destination == SocketAddress(ip: "192.168.1.20", port: 5060)!)
    }

    @Test("fix_nated_register(): the source is stored as received, returned in the 200, and requests go there")
    func fixNatedRegister() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let ok = try saved(memory, "nat")
        #expect(ok.headerValues(.contact).first?.contains(";received=\"sip:127.0.0.1:5072\"") == true,
                "\(ok.headerValues(.contact))")
        let invite = try #require(relayed(memory, "nat"))
        #expect(invite.destination == phone.address)
        #expect(invite.message.requestURIText == "sip:u@192.168.1.20:5060")
    }

    @Test("registrar received_avp set by the script is stored as received")
    func receivedAVP() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        _ = try saved(memory, "avp")
        let invite = try #require(relayed(memory, "avp"))
        #expect(invite.destination == SocketAddress(ip: "127.0.0.1", port: 5099)!)
    }

    @Test("fix_nated_contact rewrites the Contact to the source (with its URI parameters); add_rcv_param(1)")
    func contactRewrites() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        _ = try saved(memory, "fixed")
        #expect(memory.server.core.location.contacts(of: "fixed", now: 0).first?.uri == "sip:u@127.0.0.1:5072;nat=yes")
        _ = try saved(memory, "rcv")
        #expect(memory.server.core.location.contacts(of: "rcv", now: 0).first?.uri
                == "sip:u@192.168.1.20:5060;received=sip:127.0.0.1:5072")
    }

    @Test("nat_uac_test: private Contact (1), Via address (2), private Via (4), Via port (16), Contact address/port (32/64)")
    func natUACTest() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        var round = 0
        func status(_ flags: Int, contact: String, via: String) -> Int? {
            round += 1
            let bytes = Array("""
                OPTIONS sip:x@example.com SIP/2.0\r
                Via: SIP/2.0/UDP \(via);branch=z9hG4bK-nat-\(round)\r
                From: <sip:u@example.com>;tag=o1\r
                To: <sip:x@example.com>\r
                Call-ID: nat-\(round)\r
                CSeq: 1 OPTIONS\r
                Max-Forwards: 70\r
                Contact: <\(contact)>\r
                X-Flags: \(flags)\r
                Content-Length: 0\r
                \r

                """.utf8)
            memory.proxy.receive(bytes, from: phone.address)
            return memory.proxy.sent().last { ($0.status ?? 0) >= 200 }?.status
        }
        #expect(status(1, contact: "sip:u@10.1.2.3:5060", via: "127.0.0.1:5072") == 200)
        #expect(status(1, contact: "sip:u@127.0.0.1:5072", via: "127.0.0.1:5072") == 404)
        #expect(status(2, contact: "sip:u@127.0.0.1:5072", via: "192.168.0.9:5072") == 200)
        #expect(status(4, contact: "sip:u@127.0.0.1:5072", via: "100.64.0.1:5072") == 200)
        #expect(status(16, contact: "sip:u@127.0.0.1:5072", via: "127.0.0.1") == 200)
        #expect(status(16, contact: "sip:u@127.0.0.1:5072", via: "127.0.0.1:5072") == 404)
        #expect(status(32, contact: "sip:u@127.0.0.2:5072", via: "127.0.0.1:5072") == 200)
        #expect(status(64, contact: "sip:u@127.0.0.1:5999", via: "127.0.0.1:5072") == 200)
        #expect(status(96, contact: "sip:u@127.0.0.1:5072", via: "127.0.0.1:5072") == 404)
    }

    @Test("onreply_route: nat_uac_test and fix_nated_contact work on the reply (its Contact gets its source)")
    func replyContact() throws {
        let uas = SIPPeer(port: 5081)
        let memory = try ScriptedMemoryProxy("""
            route {
                t_on_reply("nat");
                t_relay("udp:127.0.0.1:5081");
            }
            onreply_route[nat] {
                if (nat_uac_test(1)) { fix_nated_contact(); }
            }
            """, modules: Self.modules)
        defer { memory.close() }
        memory.proxy.receive(caller.request("INVITE", uri: "sip:bob@example.com", branch: "z9hG4bK-rc", callID: "rc"),
                             from: caller.address)
        let invite = try #require(memory.proxy.sent().first { $0.message.method == .invite })
        var ok = uas.response(to: invite.message, status: 200)
        let text = String(decoding: ok, as: UTF8.self)
        ok = Array(text.replacingFirst("\r\n\r\n", with: "\r\nContact: <sip:bob@192.168.5.5:5062>\r\n\r\n").utf8)
        memory.proxy.receive(ok, from: uas.address)
        let relayed = try #require(memory.proxy.sent().first { $0.status == 200 })
        #expect(relayed.message.headerValues(.contact) == ["<sip:bob@127.0.0.1:5081>"])
    }

    @Test("Allow is stored: lookup flag m answers -2 for a method no contact allows; instance and reg-id in the 200")
    func methodsAndOutbound() throws {
        let memory = try ScriptedMemoryProxy(Self.script, modules: Self.modules)
        defer { memory.close() }
        let ok = try saved(memory, "ua", contact: "<sip:u@127.0.0.1:5072>;+sip.instance=\"<urn:uuid:1>\";reg-id=1",
                           extra: "Allow: INVITE, ACK, BYE, CANCEL\r\n")
        let contact = try #require(ok.headerValues(.contact).first)
        #expect(contact.contains(";+sip.instance=\"<urn:uuid:1>\"") && contact.contains(";reg-id=1"), "\(contact)")
        let stored = try #require(memory.server.core.location.contacts(of: "ua", now: 0).first)
        #expect(stored.methods == 1 | 2 | 4 | 8 && stored.regID == 1 && stored.instance == "<urn:uuid:1>")
        memory.proxy.receive(caller.request("MESSAGE", uri: "sip:ua@example.com", branch: "z9hG4bK-ua-msg",
                                            callID: "ua-msg"), from: caller.address)
        #expect(memory.proxy.sent().last { ($0.status ?? 0) >= 200 }?.status == 405)
        #expect(relayed(memory, "ua") != nil)
        // A new Contact URI for the same instance and reg-id replaces the binding (RFC 5626).
        memory.proxy.receive(register("ua", contact: "<sip:u@127.0.0.1:5074>;+sip.instance=\"<urn:uuid:1>\";reg-id=1",
                                      cseq: 2), from: phone.address)
        #expect(memory.server.core.location.contacts(of: "ua", now: 0).map(\.uri) == ["sip:u@127.0.0.1:5074"])
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced (no Foundation).
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8), pattern = Array(target.utf8)
        guard bytes.count >= pattern.count,
              let start = (0...(bytes.count - pattern.count)).first(where: { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) })
        else { return self }
        return String(decoding: bytes[..<start], as: UTF8.self) + replacement
            + String(decoding: bytes[(start + pattern.count)...], as: UTF8.self)
    }
}
