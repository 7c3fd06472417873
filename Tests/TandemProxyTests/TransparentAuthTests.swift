import Foundation
import SIPCore
import Synchronization
import Testing
import TandemScript
@testable import TandemProxy
import TandemTestSupport

/// A plain `proxy_authorize` in the middle of a route, against the real PostgreSQL made slow (a view
/// whose password column sleeps): the request suspends transparently and the route continues at the
/// call, while the one worker answers other requests meanwhile (issue 16).
@Suite(.serialized, .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
struct TransparentAuthTests {
    static let table = "transparent_subscriber_test"
    static let view = "transparent_subscriber_slow"
    /// Seconds each credentials lookup takes.
    static let delay = 1.0

    static func fixtures() throws {
        try PostgresScriptTests.psql("""
            DROP VIEW IF EXISTS \(view);
            DROP TABLE IF EXISTS \(table);
            CREATE TABLE \(table) (username text, domain text, password text, ha1 text, ha1_sha256 text);
            INSERT INTO \(table) VALUES ('alice', 'example.com', 'wonderland', md5('alice:example.com:wonderland'), NULL);
            CREATE OR REPLACE FUNCTION transparent_slow(t text) RETURNS text AS $$
                SELECT pg_sleep(\(delay)); SELECT t $$ LANGUAGE sql VOLATILE;
            CREATE VIEW \(view) AS SELECT username, domain, transparent_slow(password) AS password, ha1, ha1_sha256
                FROM \(table);
            """)
    }

    /// A residential-style request route with one worker: OPTIONS answered at once, everything else
    /// authenticated with a plain proxy_authorize between statements that set $var, a flag and a header.
    static func proxy() throws -> ScriptedProxy {
        try ScriptedProxy(routes: """
            loadmodule "auth.so"
            loadmodule "auth_db.so"
            modparam("auth", "secret", "test-secret")
            modparam("auth_db", "db_url", "\(TestPostgres.url ?? "")")
            modparam("auth_db", "calculate_ha1", 1)
            route {
                if (!mf_process_maxfwd_header(10)) { sl_send_reply(483, "Too Many Hops"); exit; }
                if (is_method("OPTIONS")) { sl_send_reply(200, "Alive"); exit; }
                if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
                $var(seen) = "before";
                setflag(5);
                append_hf("X-Seen: yes\\r\\n");
                route(authenticate);
                $var(seen) = $var(seen) + "+after";
                if (!isflagset(5)) { t_reply(500, "flag lost"); exit; }
                t_reply(299, "Authorized $var(seen) $var(user) rc=$var(rc)");
            }
            route[authenticate] {
                if (!proxy_authorize("example.com", "\(view)")) {
                    $var(rc) = $rc;
                    if ($var(rc) == -4) { proxy_challenge("example.com", "auth"); exit; }
                    t_reply(403, "rc=$var(rc) $var(seen)");
                    exit;
                }
                $var(rc) = $rc;
                $var(user) = $au;
                consume_credentials();
            }
            """, workers: 1)
    }

    @Test("407 then 299 through a plain proxy_authorize on a slow database; OPTIONS answered meanwhile by the same worker")
    func slowDatabaseDoesNotBlockTheWorker() throws {
        try Self.fixtures()
        let proxy = try Self.proxy()
        let helper = AuthDBScriptTests()
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", branch: "z9hG4bK-tr-0", callID: "tr-0"))
        let challenge = try #require(caller.waitFor(timeout: 5) { $0 >= 200 }.match)
        #expect(challenge.statusCode == 407)
        let offer = try #require(challenge.header(.proxyAuthenticate))

        let right = try helper.answer(offer, user: "alice", password: "wonderland", method: "INVITE", nc: "00000001")
        // A client per transaction: the unacknowledged 407 above is retransmitted to the first one.
        let authorizedCaller = try SIPTestClient(proxyPort: proxy.port)
        let started = Date()
        try authorizedCaller.send(authorizedCaller.request("INVITE", branch: "z9hG4bK-tr-1", callID: "tr-1",
                                       extraHeaders: "Proxy-Authorization: \(right)\r\n"))
        // While the lookup sleeps, the single worker answers OPTIONS at once.
        usleep(100_000)
        let pinger = try SIPTestClient(proxyPort: proxy.port)
        var answered: [Double] = []
        for i in 0..<3 {
            let sent = Date()
            try pinger.send(pinger.request("OPTIONS", branch: "z9hG4bK-tr-ping-\(i)", callID: "tr-ping-\(i)"))
            #expect(pinger.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 200)
            answered.append(Date().timeIntervalSince(sent))
        }
        #expect(answered.allSatisfy { $0 < 0.3 }, "OPTIONS took \(answered) s while the lookup ran")
        #expect(Date().timeIntervalSince(started) < Self.delay, "the OPTIONS were answered before the lookup ended")
        let authorized = try #require(authorizedCaller.waitFor(timeout: 5) { $0 >= 200 }.match)
        #expect(authorized.statusCode == 299)
        #expect(authorized.reasonPhrase == "Authorized before+after alice rc=1", "$var, flag and $au kept across the suspension")
        #expect(Date().timeIntervalSince(started) >= Self.delay * 0.9)

        let wrong = try helper.answer(offer, user: "alice", password: "guess", method: "INVITE", nc: "00000002")
        let wrongCaller = try SIPTestClient(proxyPort: proxy.port)
        try wrongCaller.send(wrongCaller.request("INVITE", branch: "z9hG4bK-tr-2", callID: "tr-2",
                                                 extraHeaders: "Proxy-Authorization: \(wrong)\r\n"))
        #expect(wrongCaller.waitFor(timeout: 5) { $0 >= 200 }.match?.reasonPhrase == "rc=-2 before")
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
    }

    @Test("In a failure_route: the plain proxy_authorize suspends and the failure route goes on at the call")
    func failureRoute() throws {
        try Self.fixtures()
        let challenger = try Self.proxy()
        let unreachable = closedPort()
        let proxy = try ScriptedProxy(routes: """
            loadmodule "auth.so"
            loadmodule "auth_db.so"
            modparam("auth", "secret", "test-secret")
            modparam("auth_db", "db_url", "\(TestPostgres.url ?? "")")
            modparam("auth_db", "calculate_ha1", 1)
            route {
                t_on_failure("retry");
                t_relay("udp:127.0.0.1:\(unreachable)");
                exit;
            }
            failure_route[retry] {
                $var(stage) = "failure";
                if (proxy_authorize("example.com", "\(Self.view)")) {
                    t_reply(298, "Authorized in $var(stage) route");
                    exit;
                }
                t_reply(403, "failure rc=$rc");
            }
            """, workers: 1)
        let caller = try SIPTestClient(proxyPort: challenger.port)
        try caller.send(caller.request("INVITE", branch: "z9hG4bK-trf-0", callID: "trf-0"))
        let offer = try #require(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.header(.proxyAuthenticate))
        let right = try AuthDBScriptTests().answer(offer, user: "alice", password: "wonderland", method: "INVITE",
                                                   nc: "00000001")
        let client = try SIPTestClient(proxyPort: proxy.port)
        let started = Date()
        try client.send(client.request("INVITE", branch: "z9hG4bK-trf-1", callID: "trf-1",
                                       extraHeaders: "Proxy-Authorization: \(right)\r\n"))
        usleep(500_000)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1,
                "the failure route waits suspended (the worker is free), not blocked in the call")
        let final = try #require(client.waitFor(timeout: 8) { $0 >= 200 }.match)
        #expect(final.statusCode == 298, "\(final.reasonPhrase)")
        #expect(final.reasonPhrase == "Authorized in failure route")
        #expect(Date().timeIntervalSince(started) >= Self.delay * 0.9, "the lookup ran (slow view)")
    }

    @Test("A CANCEL while the plain proxy_authorize waits: 200 for the CANCEL and 487, as under async()")
    func cancelWhileSuspended() throws {
        try Self.fixtures()
        let proxy = try Self.proxy()
        let helper = AuthDBScriptTests()
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("INVITE", branch: "z9hG4bK-trc-0", callID: "trc-0"))
        let offer = try #require(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.header(.proxyAuthenticate))
        let right = try helper.answer(offer, user: "alice", password: "wonderland", method: "INVITE", nc: "00000001")
        let second = try SIPTestClient(proxyPort: proxy.port)
        try second.send(second.request("INVITE", branch: "z9hG4bK-trc-1", callID: "trc-1",
                                       extraHeaders: "Proxy-Authorization: \(right)\r\n"))
        usleep(200_000)
        try second.send(second.request("CANCEL", branch: "z9hG4bK-trc-1", callID: "trc-1"))
        let replies = second.waitFor(timeout: 5) { $0 == 487 }
        #expect(replies.match?.statusCode == 487, "seen \(replies.seen)")
        #expect(replies.seen.contains(200), "the CANCEL was answered")
        #expect(!replies.seen.contains(299))
    }
}
