import Foundation
import Glibc
import SIPCore
import Testing
import TandemAsync
import TandemServer
@testable import TandemProxy

/// Above a driver's capacity its bounded queue answers rc -4 at once, counted as rejected (issue 13).
@Suite(.serialized)
struct AsyncOverloadTests {
    /// Sends `count` MESSAGEs at once and returns each final reply's reason with the seconds it took.
    static func burst(_ proxy: ScriptedProxy, count: Int, tag: String) throws -> [(reason: String, seconds: Double)] {
        let client = try SIPTestClient(proxyPort: proxy.port)
        let started = Date()
        for i in 0..<count {
            try client.send(client.request("MESSAGE", branch: "z9hG4bK-\(tag)-\(i)", callID: "\(tag)-\(i)"))
        }
        var finals: [(String, Double)] = []
        while finals.count < count, let message = client.receive(timeout: 5) {
            guard let status = message.statusCode, status >= 200 else { continue }
            finals.append((message.reasonPhrase ?? "", Date().timeIntervalSince(started)))
        }
        return finals
    }

    /// Every job is accounted for exactly once.
    static func balanced(_ counters: AsyncDriverSnapshot) -> Bool {
        counters.started == counters.completed + counters.timedOut + counters.cancelled + counters.rejected
            + counters.inFlight
    }

    @Test("PostgreSQL: a full wait queue (db_queue) answers -4 at once, counted as rejected",
          .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
    func postgresQueueBound() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("SELECT pg_sleep(0.4)::text", "$avp(x)"), done);
            }
            route[done] {
                t_reply(299, "rc=$rc");
            }
            """, globals: """
            loadmodule "avpops.so"
            modparam("avpops", "db_url", "\(TestPostgres.url ?? "")")
            modparam("tandem", "db_pool_size", 1)
            modparam("tandem", "db_pipeline_depth", 1)
            modparam("tandem", "db_queue", 1)
            """, workers: 1)
        // One query per connection (no pipeline), so the second query waits in the queue.
        // One query first, so that the connection is open and idle.
        #expect(try Self.burst(proxy, count: 1, tag: "pgq-warm").first?.reason == "rc=1")
        let finals = try Self.burst(proxy, count: 3, tag: "pgq")
        #expect(finals.count == 3)
        let rejected = finals.filter { $0.reason == "rc=-4" }
        #expect(rejected.count == 1, "\(finals)")
        #expect((rejected.first?.seconds ?? 9) < 0.3, "the rejection waited: \(finals)")
        #expect(finals.filter { $0.reason == "rc=1" }.count == 2, "\(finals)")
        let counters = try #require(proxy.server.engine.snapshot().driver("postgres"))
        #expect(counters.rejected == 1)
        #expect(counters.completed == 3)
        #expect(Self.balanced(counters), "\(counters)")
    }

    @Test("PostgreSQL: OpenSIPS's core db_max_async_connections bounds the pool like db_pool_size",
          .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
    func postgresMaxAsyncConnections() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("SELECT pg_sleep(0.4)::text", "$avp(x)"), done);
            }
            route[done] {
                t_reply(299, "rc=$rc");
            }
            """, globals: """
            db_max_async_connections = 1
            loadmodule "avpops.so"
            modparam("avpops", "db_url", "\(TestPostgres.url ?? "")")
            modparam("tandem", "db_queue", 1)
            """, workers: 1)
        // One connection at most: the second query waits in the queue, the third is rejected.
        #expect(try Self.burst(proxy, count: 1, tag: "pgm-warm").first?.reason == "rc=1")
        let finals = try Self.burst(proxy, count: 3, tag: "pgm")
        #expect(finals.filter { $0.reason == "rc=-4" }.count == 1, "\(finals)")
        #expect(finals.filter { $0.reason == "rc=1" }.count == 2, "\(finals)")
    }

    @Test("PostgreSQL pipeline: a connection carries db_pipeline_depth queries, the next wait in db_queue",
          .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
    func postgresPipelineDepthThenQueue() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("SELECT pg_sleep(0.2)::text", "$avp(x)"), done);
            }
            route[done] {
                t_reply(299, "rc=$rc");
            }
            """, globals: """
            loadmodule "avpops.so"
            modparam("avpops", "db_url", "\(TestPostgres.url ?? "")")
            modparam("tandem", "db_pool_size", 1)
            modparam("tandem", "db_pipeline_depth", 2)
            modparam("tandem", "db_queue", 1)
            """, workers: 1)
        #expect(try Self.burst(proxy, count: 1, tag: "pgp-warm").first?.reason == "rc=1")
        // Two in flight on the one connection, one queued, one rejected.
        let finals = try Self.burst(proxy, count: 4, tag: "pgp")
        #expect(finals.count == 4)
        #expect(finals.filter { $0.reason == "rc=-4" }.count == 1, "\(finals)")
        #expect(finals.filter { $0.reason == "rc=1" }.count == 3, "\(finals)")
        let counters = try #require(proxy.server.engine.snapshot().driver("postgres"))
        #expect(counters.rejected == 1 && counters.completed == 4)
        #expect(Self.balanced(counters), "\(counters)")
    }

    @Test("HTTP: a full pending queue (http_queue) answers -4 at once, counted as rejected",
          .enabled(if: TestHTTP.url != nil, "TANDEM_TEST_HTTP_URL not set (start with scripts/test.sh)"))
    func httpQueueBound() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(rest_get("\(HTTPScriptTests.base)/echo?delay_ms=400", $var(b)), done);
            }
            route[done] {
                t_reply(299, "rc=$rc");
            }
            """, globals: """
            loadmodule "rest_client.so"
            modparam("rest_client", "max_async_transfers", 1)
            modparam("tandem", "http_queue", 1)
            """, workers: 1)
        let finals = try Self.burst(proxy, count: 3, tag: "httpq")
        #expect(finals.count == 3)
        let rejected = finals.filter { $0.reason == "rc=-4" }
        #expect(rejected.count == 1, "\(finals)")
        #expect((rejected.first?.seconds ?? 9) < 0.3, "the rejection waited: \(finals)")
        let counters = try #require(proxy.server.engine.snapshot().driver("http"))
        #expect(counters.rejected == 1)
        #expect(Self.balanced(counters), "\(counters)")
    }
}
