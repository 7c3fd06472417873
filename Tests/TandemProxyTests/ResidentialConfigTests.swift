import Foundation
import Glibc
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Configs/residential.cfg against the real PostgreSQL that scripts/test.sh starts, with SIPp's digest
/// authentication (issue 16): users register through 401 challenges, passwords fetched by async().
@Suite(.serialized, .exclusiveLoad, .enabled(if: TestPostgres.url != nil && SIPp.isAvailable,
                                             "TANDEM_TEST_PG_URL not set or sipp missing"))
struct ResidentialConfigTests {
    static let table = "residential_subscriber_test"

    /// The subscriber table with `users` users (userN / pwN, example.com).
    static func subscribers(_ users: Int) throws {
        var rows: [String] = []
        for i in 0..<users { rows.append("('user\(i)', 'example.com', 'pw\(i)')") }
        try PostgresScriptTests.psql("""
            DROP TABLE IF EXISTS \(table);
            CREATE TABLE \(table) (username varchar(64), domain varchar(64), password varchar(25));
            INSERT INTO \(table) VALUES \(rows.joined(separator: ", "));
            """)
    }

    /// The shipped config, pointed at the test database, table and a free port.
    static func proxy() throws -> ScriptedProxy {
        let configURL = ConfigFilesTests.configDirectory.appendingPathComponent("residential.cfg")
        var source = try String(contentsOf: configURL, encoding: .utf8)
        source = source.replacingOccurrences(of: "FROM subscriber", with: "FROM \(table)")
        source = source.replacingOccurrences(of: "postgres://tandem:secret@127.0.0.1:5432/tandem",
                                             with: TestPostgres.url ?? "")
        let body = source.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("socket") && !$0.hasPrefix("udp_workers") && !$0.hasPrefix("log_level") }
            .joined(separator: "\n")
        return try ScriptedProxy(routes: body)
    }

    /// An injection file: userN;[authentication username=userN password=pwN].
    static func injectionFile(_ users: Int) throws -> URL {
        let inf = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-users-\(getpid())-\(users).csv")
        var lines = ["SEQUENTIAL"]
        for i in 0..<users { lines.append("user\(i);[authentication username=user\(i) password=pw\(i)]") }
        try lines.joined(separator: "\n").appending("\n").write(to: inf, atomically: true, encoding: .utf8)
        return inf
    }

    @Test("residential.cfg: 200 users register with digest auth (401, then 200) through async PostgreSQL lookups")
    func registerWithAuth() throws {
        let users = 200
        try Self.subscribers(users)
        let proxy = try Self.proxy()
        let inf = try Self.injectionFile(users)
        defer { try? FileManager.default.removeItem(at: inf) }
        let uac = try SIPp.Instance(arguments: [
            "-sf", SIPp.scenario("uac_register_auth.xml"), proxy.address, "-i", "127.0.0.1",
            "-p", "\(Ports.free())", "-cp", "\(Ports.free())", "-m", "\(users)", "-r", "100", "-timeout", "60s",
            "-inf", inf.path,
        ], label: "register-auth")
        let client = uac.wait(seconds: 60)
        #expect(client.successful == users, "\(client.output)")
        #expect(client.failed == 0)
        #expect(proxy.core.location.recordCount == users)
    }

    @Test("residential.cfg: 100 calls to a registered user, each through a 407 challenge, 0 failed")
    func callsWithAuth() throws {
        let users = 100
        try Self.subscribers(users)
        let proxy = try Self.proxy()
        let inf = try Self.injectionFile(users)
        defer { try? FileManager.default.removeItem(at: inf) }
        let uasPort = Ports.free()
        // bob's phone is the SIPp UAS (registered directly: the REGISTER path has its own test).
        proxy.core.location.update("bob", now: 0) {
            $0 = [LocationContact(uri: "sip:bob@127.0.0.1:\(uasPort)", expires: UInt64.max / 2)]
        }
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "\(users)"])
        let uac = try SIPp.Instance(arguments: [
            "-sf", SIPp.scenario("uac_auth_call.xml"), proxy.address, "-i", "127.0.0.1",
            "-p", "\(Ports.free())", "-cp", "\(Ports.free())", "-m", "\(users)", "-r", "50", "-timeout", "60s",
            "-inf", inf.path,
        ], label: "call-auth")
        let client = uac.wait(seconds: 60)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == users, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.successful == users, "\(server.output)")
    }
}
