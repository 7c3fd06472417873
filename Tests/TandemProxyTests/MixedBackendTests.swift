import Foundation
import Glibc
import MongoDriver
import Synchronization
import Testing
@testable import TandemProxy
import TandemTestSupport

/// One call touching PostgreSQL, then HTTP, then MongoDB through chained async(), under SIPp load.
@Suite(.serialized, .exclusiveLoad, .enabled(if: SIPp.isAvailable && TestPostgres.url != nil && TestHTTP.url != nil && TestMongo.url != nil,
                             "needs sipp and the postgres, http and mongo test servers"))
struct MixedBackendTests {
    @Test("PostgreSQL → HTTP → MongoDB per call, chained async(): 1,000 calls, 0 failed")
    func mixedBackends() throws {
        try PostgresScriptTests.psql("""
            DROP TABLE IF EXISTS route_hint;
            CREATE TABLE route_hint (username text PRIMARY KEY, hint text);
            INSERT INTO route_hint VALUES ('sipp', 'pg-ok');
            """)
        let mongo = try MongoClientPool.shared(url: TestMongo.url ?? "")
        _ = mongo.run(json: #"{"delete": "routing", "deletes": [{"q": {}, "limit": 0}]}"#)
        _ = mongo.run(json: #"{"insert": "routing", "documents": [{"hint": "pg-ok", "allowed": 1}]}"#)
        let base = HTTPScriptTests.base
        let proxy = try ScriptedProxy(routes: """
            route {
                if (has_totag()) {
                    if (loose_route()) { t_relay(); exit; }
                    sl_send_reply(404, "Not Here");
                    exit;
                }
                record_route();
                async(avp_db_query("SELECT hint FROM route_hint WHERE username = '$fU'", "$avp(hint)", 1), after_pg);
            }
            route[after_pg] {
                if ($rc < 0) { t_reply(503, "pg failed"); exit; }
                async(rest_get("\(base)/json?delay_ms=5", $var(body), $var(ctype), $var(code)), after_http);
            }
            route[after_http] {
                if ($rc < 0 || $var(code) != 200) { t_reply(503, "http failed"); exit; }
                async(avp_db_query("{\\"find\\": \\"routing\\", \\"filter\\": {\\"hint\\": \\"$avp(hint)\\"}, \\"projection\\": {\\"allowed\\": 1, \\"_id\\": 0}}", "$avp(allowed)", 2), after_mongo);
            }
            route[after_mongo] {
                if ($rc < 0 || $avp(allowed) != 1) { t_reply(503, "mongo failed"); exit; }
                t_relay();
            }
            """, globals: """
            loadmodule "avpops.so"
            loadmodule "rest_client.so"
            modparam("avpops", "db_url", "1 \(TestPostgres.url ?? "")")
            modparam("avpops", "db_url", "2 \(TestMongo.url ?? "")")
            """)
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "1000"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: 1000, rate: 100)
        let client = uac.wait(seconds: 90)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == 1000, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
    }
}
