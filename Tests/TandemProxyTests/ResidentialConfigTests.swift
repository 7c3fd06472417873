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

    @Test("residential.cfg: 200 users register with digest auth (401, then 200) through async PostgreSQL lookups")
    func registerWithAuth() throws {
        let users = 200
        var rows: [String] = []
        for i in 0..<users { rows.append("('user\(i)', 'example.com', 'pw\(i)')") }
        try PostgresScriptTests.psql("""
            DROP TABLE IF EXISTS \(Self.table);
            CREATE TABLE \(Self.table) (username varchar(64), domain varchar(64), password varchar(25));
            INSERT INTO \(Self.table) VALUES \(rows.joined(separator: ", "));
            """)
        let configURL = ConfigFilesTests.configDirectory.appendingPathComponent("residential.cfg")
        var source = try String(contentsOf: configURL, encoding: .utf8)
        // The shipped config, pointed at the test database, table and a free port.
        source = source.replacingOccurrences(of: "FROM subscriber", with: "FROM \(Self.table)")
        source = source.replacingOccurrences(of: "postgres://tandem:secret@127.0.0.1:5432/tandem",
                                             with: TestPostgres.url ?? "")
        let body = source.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("socket") && !$0.hasPrefix("udp_workers") && !$0.hasPrefix("log_level") }
            .joined(separator: "\n")
        let proxy = try ScriptedProxy(routes: body)
        let inf = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-users-\(getpid()).csv")
        var lines = ["SEQUENTIAL"]
        for i in 0..<users { lines.append("user\(i);[authentication username=user\(i) password=pw\(i)]") }
        try lines.joined(separator: "\n").appending("\n").write(to: inf, atomically: true, encoding: .utf8)
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
}
