import Foundation
import Glibc
import Testing
@testable import TandemProxy
import TandemTestSupport

/// The registrar-proxy under SIPp load against the real PostgreSQL that scripts/test.sh starts (issue 16):
/// users from a `subscriber` table register through 401 challenges (SIPp's `[authentication]` with an
/// injection file), usrloc writes every contact through to PostgreSQL, then the users call each other
/// through 407 challenges, record-routed, the callees' contacts all pointing at one SIPp UAS. 0 failed.
///
/// Modest in the suite (300 users, 300 calls, 100/s). By hand, through the environment:
/// `TANDEM_REGLOAD_USERS` (users, and calls unless `TANDEM_REGLOAD_CALLS`), `TANDEM_REGLOAD_RATE`
/// (per second, both phases), `TANDEM_REGLOAD_DELAY_MS` (database latency added by Perf/delay_proxy.py
/// between Tandem and PostgreSQL; the suite also runs a 20 ms variant with fewer users).
@Suite(.serialized, .exclusiveLoad, .enabled(if: TestPostgres.url != nil && SIPp.isAvailable,
                                             "TANDEM_TEST_PG_URL not set or sipp missing"))
struct RegistrationLoadTests {
    static let subscribers = "regload_subscriber"
    static let location = "regload_location"

    static func setting(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? fallback
    }

    /// `users` subscribers rlN / pwN in example.com, with the HA1 stored (calculate_ha1 0), and an empty
    /// location table in OpenSIPS's layout.
    static func fixtures(users: Int) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let schema = try String(contentsOfFile: root.appendingPathComponent("Configs/location-postgres.sql").path,
                                encoding: .utf8)
            .replacingOccurrences(of: "location", with: location)
        try PostgresScriptTests.psql("""
            DROP TABLE IF EXISTS \(location);
            \(schema)
            DROP TABLE IF EXISTS \(subscribers);
            CREATE TABLE \(subscribers) (username varchar(64), domain varchar(64), password varchar(25),
                                         ha1 varchar(64), ha1_sha256 varchar(64), UNIQUE (username, domain));
            INSERT INTO \(subscribers) (username, domain, password, ha1)
                SELECT 'rl' || i, 'example.com', 'pw' || i, md5('rl' || i || ':example.com:pw' || i)
                FROM generate_series(0, \(users - 1)) AS i;
            """)
    }

    /// A residential-style script: digest auth against the subscriber table, usrloc write-through, every
    /// database step under async() (called plainly, www_authorize/save block the worker for the query:
    /// at 20 ms database latency 2 workers then top out near 50 REGISTER/s).
    static func proxy(databaseURL: String, workers: Int = 2) throws -> ScriptedProxy {
        try ScriptedProxy(routes: """
            loadmodule "usrloc.so"
            loadmodule "registrar.so"
            loadmodule "auth.so"
            loadmodule "auth_db.so"
            modparam("usrloc", "working_mode_preset", "single-instance-sql-write-through")
            modparam("usrloc", "db_url", "\(databaseURL)")
            modparam("registrar", "max_expires", 3600)
            modparam("auth", "secret", "regload-secret")
            modparam("auth", "nonce_expire", 60)
            modparam("auth_db", "db_url", "\(databaseURL)")
            modparam("auth_db", "calculate_ha1", 0)
            route {
                if (!mf_process_maxfwd_header(70)) { sl_send_reply(483, "Too Many Hops"); exit; }
                if (has_totag()) {
                    if (loose_route()) { t_relay(); exit; }
                    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
                    sl_send_reply(404, "Not Here");
                    exit;
                }
                if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
                if (is_method("REGISTER")) {
                    async(www_authorize("", "\(subscribers)"), register_authorized);
                    exit;
                }
                async(proxy_authorize("", "\(subscribers)"), call_authorized);
            }
            route[register_authorized] {
                if ($rc < 0) { www_challenge("", "auth"); exit; }
                if ($au != $tU) { t_reply(403, "Forbidden"); exit; }
                consume_credentials();
                async(save("\(location)"), saved);
            }
            route[saved] {
                exit;
            }
            route[call_authorized] {
                if ($rc < 0) { proxy_challenge("", "auth"); exit; }
                if ($au != $fU) { t_reply(403, "Forbidden"); exit; }
                consume_credentials();
                record_route();
                async(lookup("\(location)"), relay);
            }
            route[relay] {
                if ($rc < 0) { t_reply(404, "Not Found"); exit; }
                t_relay();
            }
            """, workers: workers)
    }

    /// The injection file: rlN;example.com;[authentication ...];callee;contact host:port (see
    /// Tests/sipp/regload_register.xml). User N calls user N+1.
    static func injectionFile(users: Int, contact: String) throws -> URL {
        let inf = FileManager.default.temporaryDirectory
            .appendingPathComponent("tandem-regload-\(getpid())-\(users).csv")
        var lines = ["SEQUENTIAL"]
        for i in 0..<users {
            lines.append("rl\(i);example.com;[authentication username=rl\(i) password=pw\(i)];rl\((i + 1) % users);"
                         + contact)
        }
        try lines.joined(separator: "\n").appending("\n").write(to: inf, atomically: true, encoding: .utf8)
        return inf
    }

    /// Perf/delay_proxy.py in front of the test PostgreSQL, delaying its answers by `ms`; the URL through it.
    final class DelayedDatabase {
        let process = Process()
        let url: String

        init(ms: Int) throws {
            let direct = TestPostgres.url ?? ""
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            guard let at = direct.lastIndex(of: ":"), let slash = direct[at...].firstIndex(of: "/"),
                  let target = Int(direct[direct.index(after: at)..<slash]) else {
                throw ScriptedProxy.ScriptError(diagnostics: ["unexpected TANDEM_TEST_PG_URL \(direct)"])
            }
            let port = Ports.free()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [root.appendingPathComponent("Perf/delay_proxy.py").path, "\(port)", "\(target)",
                                 "\(ms)"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 where Ports.isFree(port) { usleep(50_000) }
            url = String(direct[..<at]) + ":\(port)" + String(direct[slash...])
        }

        /// Stops the delay proxy (SIGKILL: it keeps no state).
        func stop() {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// Registers `users`, then makes `calls` calls between them at `rate`/s; expects 0 failed everywhere.
    func run(users: Int, calls: Int, rate: Int, delayMS: Int) throws {
        try Self.fixtures(users: users)
        let delayed = delayMS > 0 ? try DelayedDatabase(ms: delayMS) : nil
        // The proxy (in the do block) stops before the delay proxy in front of its database.
        defer { delayed?.stop() }
        do {
            let proxy = try Self.proxy(databaseURL: delayed?.url ?? TestPostgres.url ?? "")
            // What the start loaded from the `location` table other suites use (the load reads only that
            // table, this test saves into its own): not this test's registrations.
            let loadedAtStart = proxy.core.location.recordCount
            let uasPort = Ports.free()
            let inf = try Self.injectionFile(users: users, contact: "127.0.0.1:\(uasPort)")
            defer { try? FileManager.default.removeItem(at: inf) }
            let phase = Double(max(users, calls)) / Double(rate) + 60

            let started = Date()
            let registrations = try SIPp.Instance(arguments: [
                "-sf", SIPp.scenario("regload_register.xml"), proxy.address, "-i", "127.0.0.1",
                "-p", "\(uasPort)", "-cp", "\(Ports.free())", "-m", "\(users)", "-r", "\(rate)",
                "-timeout", "\(Int(phase))s", "-inf", inf.path, "-buff_size", "4194304",
            ], label: "regload-register")
            let registered = registrations.wait(seconds: phase)
            let registerSeconds = Date().timeIntervalSince(started)
            #expect(registered.successful == users, "\(registered.output)")
            #expect(registered.failed == 0)
            #expect(proxy.core.location.recordCount - loadedAtStart == users)
            // Write-through: every acknowledged registration is a row already.
            let rows = try UsrlocDatabaseTests.rows("SELECT count(DISTINCT username) FROM \(Self.location)")
            #expect(rows == ["\(users)"])

            let uas = try SIPp.Instance(arguments: [
                "-sf", SIPp.scenario("uas.xml"), "-i", "127.0.0.1", "-p", "\(uasPort)", "-cp", "\(Ports.free())",
                "-m", "\(calls)", "-timeout", "\(Int(phase))s", "-buff_size", "4194304",
            ], label: "regload-uas")
            SIPp.waitUntilBound(uasPort)
            let callStart = Date()
            let callers = try SIPp.Instance(arguments: [
                "-sf", SIPp.scenario("regload_call.xml"), proxy.address, "-i", "127.0.0.1",
                "-p", "\(Ports.free())", "-cp", "\(Ports.free())", "-m", "\(calls)", "-r", "\(rate)",
                "-timeout", "\(Int(phase))s", "-inf", inf.path, "-buff_size", "4194304",
            ], label: "regload-call")
            let client = callers.wait(seconds: phase)
            let callSeconds = Date().timeIntervalSince(callStart)
            let server = uas.wait(seconds: 30)
            #expect(client.successful == calls, "\(client.output)")
            #expect(client.failed == 0)
            #expect(server.successful == calls, "\(server.output)")
            print("regload users=\(users) calls=\(calls) rate=\(rate)/s delay=\(delayMS)ms: "
                  + "registered \(registered.successful) "
                  + "failed \(registered.failed) retrans \(registered.retransmissions) in \(Int(registerSeconds)) s; "
                  + "calls ok \(client.successful) failed \(client.failed) retrans \(client.retransmissions) "
                  + "in \(Int(callSeconds)) s; UAS ok \(server.successful)")
        }
    }

    @Test("300 users register with digest auth (usrloc write-through), then 300 record-routed calls between them, 0 failed")
    func registerThenCall() throws {
        let users = Self.setting("TANDEM_REGLOAD_USERS", 300)
        try run(users: users, calls: Self.setting("TANDEM_REGLOAD_CALLS", users),
                rate: Self.setting("TANDEM_REGLOAD_RATE", 100), delayMS: Self.setting("TANDEM_REGLOAD_DELAY_MS", 0))
    }

    @Test("The same with 20 ms added database latency (Perf/delay_proxy.py): 100 users, 100 calls, 0 failed")
    func registerThenCallSlowDatabase() throws {
        try run(users: 100, calls: 100, rate: 50, delayMS: 20)
    }
}
