import Foundation
import Glibc
import SIPCore
import Testing
import TandemTestSupport

/// `kill -9` of a real `tandem run` during a registration load (issue 16): in write-through and
/// sql-only every REGISTER that got its 200 is in the table, and an instance started after finds it.
/// Part of ``UsrlocDatabaseTests`` (one serialized suite: they share the `location` table).
extension UsrlocDatabaseTests {
    static func crashConfig(port: UInt16, mode: String) -> String {
        """
        log_level = 2
        udp_workers = 2
        socket = udp:127.0.0.1:\(port)
        loadmodule "tm.so"
        loadmodule "sl.so"
        loadmodule "sipmsgops.so"
        \(Self.usrloc(mode, timer: 60))
        route {
            if (is_method("REGISTER")) { save("location"); exit; }
            sl_send_reply(404, "Not Here");
        }
        """
    }

    func killDuringLoad(mode: String) throws {
        try Self.freshTable()
        let port = Ports.free()
        let tandem = try TandemProcess(config: Self.crashConfig(port: port, mode: mode))
        defer { tandem.kill() }
        try #require(tandem.waitForLog("tandem running", timeout: 10), "\(tandem.log)")
        let client = try SIPTestClient(proxyPort: port)
        var acknowledged: Set<String> = []
        func drain(_ seconds: Double) {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline, let reply = client.receive(timeout: 0.003) {
                if reply.statusCode == 200, let callID = reply.callID { acknowledged.insert(callID) }
            }
        }
        func send(_ i: Int) throws {
            let user = "k\(i)"
            try client.send(Array("""
                REGISTER sip:127.0.0.1 SIP/2.0\r
                Via: SIP/2.0/UDP 127.0.0.1:\(client.port);branch=z9hG4bK-k9-\(i)\r
                From: <sip:\(user)@127.0.0.1>;tag=k\r
                To: <sip:\(user)@127.0.0.1>\r
                Call-ID: \(user)\r
                CSeq: 1 REGISTER\r
                Max-Forwards: 70\r
                Contact: <sip:\(user)@127.0.0.1:9>\r
                Expires: 300\r
                Content-Length: 0\r
                \r

                """.utf8))
        }
        // 150 REGISTERs at about 200/s, then a burst of 30 and the kill right after it, while those are
        // being written.
        var sent = 0
        for i in 0..<150 {
            try send(i)
            sent += 1
            drain(0.005)
        }
        for i in 150..<180 {
            try send(i)
            sent += 1
        }
        usleep(2_000)
        tandem.kill()
        drain(0.5)
        #expect(acknowledged.count >= 50, "only \(acknowledged.count) of \(sent) acknowledged before the kill")
        let stored = Set(try Self.rows("SELECT callid FROM location"))
        let lost = acknowledged.subtracting(stored)
        #expect(lost.isEmpty, "acknowledged but not stored: \(lost.sorted())")
        // A new instance finds every acknowledged registration.
        let restarted = try ScriptedProxy(routes: Self.usrloc(mode) + "\n" + Self.routes)
        var missing: [String] = []
        for user in acknowledged.sorted() {
            if try Self.ask(restarted.port, "OPTIONS", user: user, id: "k9-opt-\(user)") != 200 {
                missing.append(user)
            }
        }
        #expect(missing.isEmpty, "not found after restart: \(missing)")
        print("usrloc kill -9 (\(mode)): sent \(sent), acknowledged \(acknowledged.count), rows \(stored.count)")
    }

    @Test("write-through: kill -9 during a REGISTER load loses no acknowledged registration",
          .enabled(if: TandemProcess.isAvailable, "tandem binary not built"))
    func killWriteThrough() throws { try killDuringLoad(mode: "single-instance-sql-write-through") }

    @Test("sql-only: kill -9 during a REGISTER load loses no acknowledged registration",
          .enabled(if: TandemProcess.isAvailable, "tandem binary not built"))
    func killSQLOnly() throws { try killDuringLoad(mode: "sql-only") }
}
