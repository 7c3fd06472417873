import Foundation
import SIPCore
import Testing
import TandemProxy
import TandemTestSupport

/// The `location` columns beyond the basics (issue 16): `methods` (Allow), `cflags`, `received` only when
/// the script asked, `+sip.instance` and `reg-id` (in `kv_store`) read back at a restart; every table the
/// script saves to is loaded and purged; sql-only `max_contacts` counted in the write's statement.
/// Part of ``UsrlocDatabaseTests`` (one serialized suite: they share the `location` table).
extension UsrlocDatabaseTests {
    /// A REGISTER of `user` with a raw Contact value and extra header lines; the final reply.
    static func registerRaw(_ port: UInt16, user: String, contact: String, callID: String, cseq: Int = 1,
                            extra: String = "") throws -> SIPMessage? {
        let client = try SIPTestClient(proxyPort: port)
        try client.send(Array("""
            REGISTER sip:127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(client.port);branch=z9hG4bK-\(callID)-\(cseq)\r
            From: <sip:\(user)@127.0.0.1>;tag=r1\r
            To: <sip:\(user)@127.0.0.1>\r
            Call-ID: \(callID)\r
            CSeq: \(cseq) REGISTER\r
            Max-Forwards: 70\r
            Contact: \(contact)\r
            Expires: 300\r
            \(extra)Content-Length: 0\r
            \r

            """.utf8))
        return client.waitFor(timeout: 5) { $0 >= 200 }.match
    }

    @Test("write-through: methods, cflags, sip_instance and reg-id stored, no received unless asked; reg-id read back at a restart")
    func outboundColumns() throws {
        try Self.freshTable()
        let routes = """
            route {
                if (is_method("REGISTER")) {
                    if ($tU == "natted") { fix_nated_register(); }
                    setbflag(3);
                    save("location");
                    exit;
                }
                sl_send_reply(404, "Not Here");
            }
            """
        let config = Self.usrloc("single-instance-sql-write-through") + "\nloadmodule \"nathelper.so\"\n" + routes
        var a: ScriptedProxy? = try ScriptedProxy(routes: config)
        let port = try #require(a?.port)
        let instance = "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=2"
        #expect(try Self.registerRaw(port, user: "otto", contact: "<sip:otto@127.0.0.1:9>;\(instance)", callID: "oc-1",
                                     extra: "Allow: INVITE, ACK, CANCEL, BYE, MESSAGE\r\n")?.statusCode == 200)
        #expect(try Self.registerRaw(port, user: "natted", contact: "<sip:natted@10.0.0.7:5060>",
                                     callID: "oc-2")?.statusCode == 200)
        #expect(try Self.rows("SELECT username, methods, cflags, flags, sip_instance, kv_store, received IS NULL FROM location "
                              + "ORDER BY username")
                == ["natted||8|8|||f",
                    "otto|271|8|8|<urn:uuid:00000000-0000-1000-8000-000A95A0E128>|{\"reg-id\":2}|t"])
        #expect(try Self.rows("SELECT received FROM location WHERE username = 'natted'").first?.hasPrefix("sip:127.0.0.1:") == true)
        a = nil
        // A restart loads reg-id and instance: the same instance and reg-id with a new URI replaces the row.
        let b = try ScriptedProxy(routes: config)
        let loaded = try #require(b.core.location.contacts(of: "otto", now: 0).first)
        #expect(loaded.regID == 2 && loaded.methods == 271)
        #expect(try Self.registerRaw(b.port, user: "otto", contact: "<sip:otto@127.0.0.1:10>;\(instance)", callID: "oc-3")?
            .statusCode == 200)
        #expect(try Self.rows("SELECT contact FROM location WHERE username = 'otto'") == ["sip:otto@127.0.0.1:10"])
    }

    @Test("sql-only max_contacts: the limit counts the table's rows (another instance's too) in the write itself")
    func sqlOnlyMaxContacts() throws {
        try Self.freshTable()
        let config = Self.usrloc("sql-only") + "\nmodparam(\"registrar\", \"max_contacts\", 1)\n" + Self.routes
        let a = try ScriptedProxy(routes: config)
        let b = try ScriptedProxy(routes: config)
        #expect(try Self.register(a.port, user: "mia", contact: "sip:mia@127.0.0.1:9", expires: 300, callID: "mc-1") == 200)
        // B has never seen mia: its memory allows the contact, the statement's count refuses it.
        #expect(try Self.register(b.port, user: "mia", contact: "sip:mia@127.0.0.1:10", expires: 300, callID: "mc-2") == 503)
        #expect(try Self.rows("SELECT contact FROM location") == ["sip:mia@127.0.0.1:9"])
        // Refreshing the contact that is there is within the limit.
        #expect(try Self.register(b.port, user: "mia", contact: "sip:mia@127.0.0.1:9", expires: 300, callID: "mc-1",
                                  cseq: 2) == 200)
        #expect(try Self.count() == 1)
    }

    @Test("Every table the script names is loaded at start and purged by the timer, not only location")
    func otherTables() throws {
        try Self.freshTable()
        try PostgresScriptTests.psql("DROP TABLE IF EXISTS location_b; CREATE TABLE location_b (LIKE location INCLUDING ALL);")
        let routes = """
            route {
                if (is_method("REGISTER")) { save("location_b"); exit; }
                if (is_method("OPTIONS")) {
                    if (is_registered("location_b")) { t_reply(200, "Registered"); } else { t_reply(404, "No"); }
                    exit;
                }
                sl_send_reply(404, "Not Here");
            }
            """
        let config = Self.usrloc("single-instance-sql-write-through", timer: 1) + "\n" + routes
        var a: ScriptedProxy? = try ScriptedProxy(routes: config)
        let port = try #require(a?.port)
        #expect(try Self.register(port, user: "tia", contact: "sip:tia@127.0.0.1:9", expires: 300, callID: "ot-1") == 200)
        #expect(try Self.register(port, user: "short", contact: "sip:short@127.0.0.1:9", expires: 4, callID: "ot-2") == 200)
        // 4 s of life: the row is still there when counted even on a loaded machine, then the 1 s timer purges it.
        #expect(try Self.rows("SELECT count(*) FROM location_b") == ["2"])
        #expect(try Self.eventually(12) { try Self.rows("SELECT username FROM location_b") == ["tia"] })
        a = nil
        let b = try ScriptedProxy(routes: config)
        #expect(b.core.location.contactCount == 1)
        #expect(try Self.ask(b.port, "OPTIONS", user: "tia", id: "ot-opt") == 200)
    }
}
