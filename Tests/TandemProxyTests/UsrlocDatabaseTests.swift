import Foundation
import Glibc
import Reactor
import SIPCore
import Testing
import TandemProxy
import TandemScript
import TandemServer
import TandemTestSupport

/// usrloc's database modes against the real PostgreSQL that scripts/test.sh starts (issue 16): rows in
/// OpenSIPS 3.6's `location` layout, the load at restart, expiry, `*`, the write-back flush, `kill -9`
/// during a registration load, and two instances sharing one table.
@Suite(.serialized, .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
struct UsrlocDatabaseTests {
    /// A fresh `location` table from Configs/location-postgres.sql.
    static func freshTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let schema = try String(contentsOfFile: root.appendingPathComponent("Configs/location-postgres.sql").path,
                                encoding: .utf8)
        try PostgresScriptTests.psql("DROP TABLE IF EXISTS location;\n" + schema)
    }

    /// psql's unaligned output of `sql`, one line per row.
    static func rows(_ sql: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [TestPostgres.url ?? "", "-At", "-F", "|", "-c", sql]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    static func count() throws -> Int { Int(try rows("SELECT count(*) FROM location").first ?? "") ?? -1 }

    /// Waits up to `timeout` seconds for `condition`.
    static func eventually(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try condition() { return true }
            usleep(50_000)
        } while Date() < deadline
        return try condition()
    }

    /// The usrloc lines of a config in `mode` (a preset name, or `db_mode N`).
    static func usrloc(_ mode: String, timer: Int = 1) -> String {
        let selector = mode.hasPrefix("db_mode ") ? "modparam(\"usrloc\", \"db_mode\", \(mode.dropFirst(8)))"
            : "modparam(\"usrloc\", \"working_mode_preset\", \"\(mode)\")"
        return """
            loadmodule "usrloc.so"
            loadmodule "registrar.so"
            \(selector)
            modparam("usrloc", "db_url", "\(TestPostgres.url ?? "")")
            modparam("usrloc", "timer_interval", \(timer))
            modparam("registrar", "min_expires", 0)
            """
    }

    /// REGISTER saves (under async() for users named async…); MESSAGE looks up under async(); OPTIONS
    /// answers is_registered; the rest is looked up plainly and relayed.
    static let routes = """
        route {
            if (is_method("REGISTER")) {
                if ($tU =~ "^async") { async(save("location"), saved); }
                save("location");
                exit;
            }
            if (is_method("NOTIFY")) {
                if (remove("location", "$ru")) { t_reply(200, "Removed"); } else { t_reply(404, "Nothing"); }
                exit;
            }
            if (is_method("OPTIONS")) {
                if (is_registered("location")) { t_reply(200, "Registered"); } else { t_reply(404, "Not Registered"); }
                exit;
            }
            if (is_method("MESSAGE")) { async(lookup("location"), relay); }
            if (!lookup("location")) { t_reply(404, "Not Found"); exit; }
            route(relay);
        }
        route[saved] {
            exit;
        }
        route[relay] {
            if ($rc < 0) { t_reply(404, "Not Found"); exit; }
            t_relay();
        }
        """

    static func proxy(_ mode: String, timer: Int = 1) throws -> ScriptedProxy {
        try ScriptedProxy(routes: usrloc(mode, timer: timer) + "\n" + routes)
    }

    /// REGISTER `user` with `contact` (a URI, or `*`) and `expires`; the final status. Sent from `uas`'s
    /// socket when given (so that the contact is where the REGISTER came from: no `received`).
    static func register(_ port: UInt16, user: String, contact: String, expires: Int, callID: String,
                         cseq: Int = 1, from uas: SIPTestServer? = nil) throws -> Int? {
        try registerReply(port, user: user, contact: contact, expires: expires, callID: callID, cseq: cseq,
                          from: uas)?.statusCode
    }

    /// The final reply of ``register(_:user:contact:expires:callID:cseq:from:)``.
    static func registerReply(_ port: UInt16, user: String, contact: String, expires: Int, callID: String,
                              cseq: Int = 1, from uas: SIPTestServer? = nil) throws -> SIPMessage? {
        let client = try SIPTestClient(proxyPort: port)
        let value = contact == "*" ? "*" : "<\(contact)>"
        let bytes = Array("""
            REGISTER sip:127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(uas?.port ?? client.port);branch=z9hG4bK-\(callID)-\(cseq)\r
            From: <sip:\(user)@127.0.0.1>;tag=r1\r
            To: <sip:\(user)@127.0.0.1>\r
            Call-ID: \(callID)\r
            CSeq: \(cseq) REGISTER\r
            Max-Forwards: 70\r
            Contact: \(value)\r
            Expires: \(expires)\r
            User-Agent: usrloc-test\r
            Content-Length: 0\r
            \r

            """.utf8)
        guard let uas else {
            try client.send(bytes)
            return client.waitFor(timeout: 5) { $0 >= 200 }.match
        }
        _ = try uas.socket.send(bytes, to: client.proxy)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, let (reply, _) = uas.receive(timeout: deadline.timeIntervalSinceNow) {
            if let status = reply.statusCode, status >= 200 { return reply }
        }
        return nil
    }

    /// Sends `method` to `user` through the proxy on `port`; the final status.
    static func ask(_ port: UInt16, _ method: String, user: String, id: String) throws -> Int? {
        let client = try SIPTestClient(proxyPort: port)
        try client.send(client.request(method, uri: "sip:\(user)@127.0.0.1", branch: "z9hG4bK-\(id)", callID: id))
        return client.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode
    }

    /// Sends an INVITE to `user` through `port` and checks it reaches `uas` (which answers 486).
    static func reaches(_ uas: SIPTestServer, through port: UInt16, user: String, id: String,
                        method: String = "INVITE") throws -> Bool {
        let client = try SIPTestClient(proxyPort: port)
        try client.send(client.request(method, uri: "sip:\(user)@127.0.0.1", branch: "z9hG4bK-\(id)", callID: id))
        // Skip what is left of an earlier call (the hop-by-hop ACK of its 486).
        var received = uas.receive(timeout: 5)
        while let (message, _) = received, message.method == .ack { received = uas.receive(timeout: 5) }
        guard let (request, peer) = received else { return false }
        try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
        let final = client.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode
        return request.requestURIText == "sip:\(user)@127.0.0.1:\(uas.port)" && final == 486
    }

    @Test("write-through: the 200 comes after the row is written (3.6 columns); a restart finds the contact; * deletes the rows")
    func writeThrough() throws {
        try Self.freshTable()
        let uas = try SIPTestServer()
        var a: ScriptedProxy? = try Self.proxy("single-instance-sql-write-through")
        let port = try #require(a?.port)
        #expect(try Self.register(port, user: "alice", contact: "sip:alice@127.0.0.1:\(uas.port)", expires: 300,
                                  callID: "wt-1", from: uas) == 200)
        let row = try Self.rows("""
            SELECT username, domain IS NULL, contact, expires - extract(epoch from now())::int BETWEEN 290 AND 301,
                   callid, cseq, user_agent, q, socket, contact_id > 0 FROM location
            """)
        #expect(row == ["alice|t|sip:alice@127.0.0.1:\(uas.port)|t|wt-1|1|usrloc-test|1|udp:127.0.0.1:\(port)|t"])
        a = nil
        // A new instance on the same table loads it at start.
        let b = try Self.proxy("single-instance-sql-write-through")
        #expect(b.core.location.contactCount == 1)
        #expect(try Self.reaches(uas, through: b.port, user: "alice", id: "wt-inv"))
        #expect(try Self.reaches(uas, through: b.port, user: "alice", id: "wt-msg", method: "MESSAGE"))
        // Under async(): the transaction waits for the write, the 200 comes from the completion.
        #expect(try Self.register(b.port, user: "asyncbob", contact: "sip:asyncbob@127.0.0.1:9", expires: 300,
                                  callID: "wt-3") == 200)
        #expect(try Self.rows("SELECT username FROM location ORDER BY username") == ["alice", "asyncbob"])
        #expect(try Self.register(b.port, user: "alice", contact: "*", expires: 0, callID: "wt-2") == 200)
        #expect(try Self.rows("SELECT username FROM location") == ["asyncbob"])
        #expect(try Self.ask(b.port, "OPTIONS", user: "alice", id: "wt-opt") == 404)
    }

    @Test("db_mode 1 is write-through; an expired contact is not found and its row is deleted by the timer")
    func expiry() throws {
        try Self.freshTable()
        let proxy = try Self.proxy("db_mode 1")
        #expect(try Self.register(proxy.port, user: "bob", contact: "sip:bob@127.0.0.1:9", expires: 2, callID: "ex-1") == 200)
        #expect(try Self.count() == 1)
        #expect(try Self.ask(proxy.port, "OPTIONS", user: "bob", id: "ex-opt1") == 200)
        usleep(2_500_000)
        #expect(try Self.ask(proxy.port, "OPTIONS", user: "bob", id: "ex-opt2") == 404)
        #expect(try Self.eventually(4) { try Self.count() == 0 })
    }

    @Test("remove() in write-through: memory at once, the row at the next timer run")
    func removeReachesTheTable() throws {
        try Self.freshTable()
        let proxy = try Self.proxy("single-instance-sql-write-through", timer: 1)
        #expect(try Self.register(proxy.port, user: "gina", contact: "sip:gina@127.0.0.1:9", expires: 300,
                                  callID: "rm-1") == 200)
        #expect(try Self.count() == 1)
        #expect(try Self.ask(proxy.port, "NOTIFY", user: "gina", id: "rm-2") == 200)
        #expect(try Self.eventually(4) { try Self.count() == 0 })
    }

    @Test("write-back: the 200 comes from memory, the row is written by the timer; a graceful stop flushes")
    func writeBack() throws {
        try Self.freshTable()
        var proxy: ScriptedProxy? = try Self.proxy("single-instance-sql-write-back", timer: 1)
        let port = try #require(proxy?.port)
        #expect(try Self.register(port, user: "carol", contact: "sip:carol@127.0.0.1:9", expires: 300, callID: "wb-1") == 200)
        #expect(try Self.eventually(4) { try Self.rows("SELECT username FROM location") == ["carol"] })
        // A second contact, then a stop before the timer: the stop writes it.
        proxy = nil
        proxy = try Self.proxy("single-instance-sql-write-back", timer: 60)
        let second = try #require(proxy?.port)
        #expect(try Self.register(second, user: "carol", contact: "sip:carol@127.0.0.1:10", expires: 300, callID: "wb-2") == 200)
        proxy = nil
        #expect(try Self.rows("SELECT contact FROM location ORDER BY contact")
                == ["sip:carol@127.0.0.1:10", "sip:carol@127.0.0.1:9"])
    }

    @Test("sql-only: every lookup reads the table; two instances share it (REGISTER via A, INVITE via B)")
    func sqlOnlyTwoInstances() throws {
        try Self.freshTable()
        let uas = try SIPTestServer()
        let a = try Self.proxy("sql-only")
        let b = try Self.proxy("sql-only")
        #expect(try Self.register(a.port, user: "dave", contact: "sip:dave@127.0.0.1:\(uas.port)", expires: 300,
                                  callID: "so-1", from: uas) == 200)
        #expect(b.core.location.contactCount == 0)
        // A second contact through B: its 200 lists both (the write returns the AOR's rows), also under async().
        let both = try Self.registerReply(b.port, user: "dave", contact: "sip:dave@127.0.0.1:9", expires: 300,
                                          callID: "so-3")
        #expect(both?.statusCode == 200)
        #expect(both?.headerValues(.contact).count == 2)
        let asyncBoth = try Self.registerReply(a.port, user: "asyncdave", contact: "sip:asyncdave@127.0.0.1:9",
                                               expires: 300, callID: "so-4")
        #expect(asyncBoth?.headerValues(.contact).count == 1)
        #expect(try Self.count() == 3)
        // That contact goes again (Expires 0, a higher CSeq): one row less, the 200 lists the other.
        let one = try Self.registerReply(b.port, user: "dave", contact: "sip:dave@127.0.0.1:9", expires: 0,
                                         callID: "so-3", cseq: 2)
        #expect(one?.headerValues(.contact).count == 1)
        #expect(try Self.count() == 2)
        #expect(try Self.reaches(uas, through: b.port, user: "dave", id: "so-inv"))
        #expect(try Self.reaches(uas, through: b.port, user: "dave", id: "so-msg", method: "MESSAGE"))
        // Removal through B is seen by A at once (A's memory still has the contact from its save).
        #expect(try Self.register(b.port, user: "dave", contact: "*", expires: 0, callID: "so-2") == 200)
        #expect(try Self.ask(a.port, "OPTIONS", user: "dave", id: "so-opt") == 404)
        #expect(try Self.ask(a.port, "INVITE", user: "dave", id: "so-inv2") == 404)
    }

    @Test("write-through with read-through on a miss: REGISTER via A, INVITE via B")
    func writeThroughTwoInstances() throws {
        try Self.freshTable()
        let uas = try SIPTestServer()
        let a = try Self.proxy("single-instance-sql-write-through")
        let b = try Self.proxy("single-instance-sql-write-through")
        #expect(try Self.register(a.port, user: "erin", contact: "sip:erin@127.0.0.1:\(uas.port)", expires: 300,
                                  callID: "rt-1", from: uas) == 200)
        #expect(b.core.location.contactCount == 0)
        #expect(try Self.reaches(uas, through: b.port, user: "erin", id: "rt-inv"))
        #expect(b.core.location.contactCount == 1)
        #expect(try Self.ask(b.port, "INVITE", user: "nobody", id: "rt-miss") == 404)
    }

    @Test("plain save() with a slow insert suspends transparently: the only worker answers other requests meanwhile")
    func plainSaveSuspendsTransparently() throws {
        try Self.freshTable()
        try PostgresScriptTests.psql("""
            CREATE OR REPLACE FUNCTION usrloc_test_slow_plain() RETURNS trigger AS $$
                BEGIN PERFORM pg_sleep(1.0); RETURN NEW; END $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS usrloc_test_slow_plain ON location;
            CREATE TRIGGER usrloc_test_slow_plain BEFORE INSERT ON location FOR EACH ROW
                WHEN (NEW.username LIKE 'plainslow%') EXECUTE FUNCTION usrloc_test_slow_plain();
            """)
        let proxy = try ScriptedProxy(routes: Self.usrloc("single-instance-sql-write-through") + "\n" + Self.routes,
                                      workers: 1)
        let registering = try SIPTestClient(proxyPort: proxy.port)
        let started = Date()
        try registering.send(Array("""
            REGISTER sip:127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(registering.port);branch=z9hG4bK-plainslow-1\r
            From: <sip:plainslow@127.0.0.1>;tag=s\r
            To: <sip:plainslow@127.0.0.1>\r
            Call-ID: plainslow-1\r
            CSeq: 1 REGISTER\r
            Max-Forwards: 70\r
            Contact: <sip:plainslow@127.0.0.1:9>\r
            Expires: 300\r
            Content-Length: 0\r
            \r

            """.utf8))
        usleep(50_000)
        // The plain save() left the worker while the insert runs: the OPTIONS (a plain is_registered,
        // itself suspending on its SELECT) is answered before the REGISTER's 200.
        #expect(try Self.ask(proxy.port, "OPTIONS", user: "nobody", id: "plainslow-opt") == 404)
        // Order, not a time limit: had the worker waited for the insert, the REGISTER's 200 would
        // already be here when the OPTIONS answer came.
        #expect(registering.waitFor(timeout: 0.02) { $0 >= 200 }.match == nil)
        let registered = registering.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode
        let registerDone = Date().timeIntervalSince(started)
        #expect(registered == 200)
        #expect(registerDone >= 1.0, "REGISTER answered after \(registerDone) s")
        #expect(try Self.rows("SELECT username FROM location") == ["plainslow"])
    }

    @Test("async(save()) with a slow insert (400 ms trigger): the only worker answers other requests meanwhile")
    func asyncSaveDoesNotBlock() throws {
        try Self.freshTable()
        try PostgresScriptTests.psql("""
            CREATE OR REPLACE FUNCTION usrloc_test_slow() RETURNS trigger AS $$
                BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER usrloc_test_slow BEFORE INSERT ON location FOR EACH ROW
                WHEN (NEW.username LIKE 'asyncslow%') EXECUTE FUNCTION usrloc_test_slow();
            """)
        let proxy = try ScriptedProxy(routes: Self.usrloc("single-instance-sql-write-through") + "\n" + Self.routes,
                                      workers: 1)
        let registering = try SIPTestClient(proxyPort: proxy.port)
        let started = Date()
        try registering.send(Array("""
            REGISTER sip:127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(registering.port);branch=z9hG4bK-slow-1\r
            From: <sip:asyncslow@127.0.0.1>;tag=s\r
            To: <sip:asyncslow@127.0.0.1>\r
            Call-ID: slow-1\r
            CSeq: 1 REGISTER\r
            Max-Forwards: 70\r
            Contact: <sip:asyncslow@127.0.0.1:9>\r
            Expires: 300\r
            Content-Length: 0\r
            \r

            """.utf8))
        usleep(50_000)
        // Meanwhile: an OPTIONS (a read-through SELECT on another pooled connection) is answered at once.
        #expect(try Self.ask(proxy.port, "OPTIONS", user: "nobody", id: "slow-opt") == 404)
        let optionsDone = Date().timeIntervalSince(started)
        let registered = registering.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode
        let registerDone = Date().timeIntervalSince(started)
        #expect(registered == 200)
        #expect(optionsDone < 0.35, "OPTIONS answered after \(optionsDone) s")
        #expect(registerDone >= 0.4, "REGISTER answered after \(registerDone) s")
        #expect(try Self.rows("SELECT username FROM location") == ["asyncslow"])
        print("usrloc async save: OPTIONS answered after \(Int(optionsDone * 1000)) ms, the slow REGISTER after \(Int(registerDone * 1000)) ms")
    }

    @Test("Database unreachable: write-through answers 500, not 200 (plain and under async), and stores nothing")
    func databaseDown() throws {
        let down = "postgres://tandem@127.0.0.1:\(Ports.free())/tandem"
        let config = Self.usrloc("single-instance-sql-write-through").replacingOccurrences(of: TestPostgres.url ?? "", with: down)
        let proxy = try ScriptedProxy(routes: config + "\n" + Self.routes)
        #expect(try Self.register(proxy.port, user: "frank", contact: "sip:frank@127.0.0.1:9", expires: 300,
                                  callID: "down-1") == 500)
        #expect(try Self.register(proxy.port, user: "asyncfrank", contact: "sip:asyncfrank@127.0.0.1:9", expires: 300,
                                  callID: "down-2") == 500)
        #expect(proxy.core.location.contactCount == 0)
    }

    @Test("Cluster presets, bad db_mode and a missing db_url are refused by the check with the reason")
    func refusedModes() {
        func diagnostics(_ lines: String) -> String {
            let source = "socket = udp:127.0.0.1:5999\nloadmodule \"tm.so\"\nloadmodule \"usrloc.so\"\n"
                + "loadmodule \"registrar.so\"\n\(lines)\nroute { save(\"location\"); }\n"
            return TandemServer.load(source: source, fileName: "t.cfg").diagnostics.map(\.description).joined(separator: "\n")
        }
        #expect(diagnostics("modparam(\"usrloc\", \"working_mode_preset\", \"federation-cachedb-cluster\")")
            .contains("Tandem does not have"))
        #expect(diagnostics("modparam(\"usrloc\", \"working_mode_preset\", \"full-sharing-cluster\")")
            .contains("sharing one location table"))
        #expect(diagnostics("modparam(\"usrloc\", \"db_mode\", 4)").contains("db_mode must be 0, 1, 2 or 3"))
        #expect(diagnostics("modparam(\"usrloc\", \"db_mode\", 3)").contains("needs modparam(\"usrloc\", \"db_url\""))
        #expect(diagnostics("modparam(\"usrloc\", \"db_mode\", 1)\nmodparam(\"usrloc\", \"db_url\", \"mysql://x@h/d\")")
            .contains("PostgreSQL only"))
        #expect(diagnostics("modparam(\"usrloc\", \"contact_column\", \"uri\")").contains("cannot be renamed"))
        let good = "socket = udp:127.0.0.1:5999\nloadmodule \"tm.so\"\nloadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\n"
            + "modparam(\"usrloc\", \"working_mode_preset\", \"sql-only\")\n"
            + "modparam(\"usrloc\", \"db_url\", \"postgres://t@127.0.0.1/t\")\nroute { save(\"location\"); }\n"
        #expect(!TandemServer.load(source: good, fileName: "t.cfg").hasErrors)
    }
}
