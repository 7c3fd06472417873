import Foundation
import Glibc
import MongoDriver
import SIPCore
import Testing
@testable import TandemProxy
import TandemAsync
@testable import TandemServer
import TandemTestSupport

/// Where scripts/test.sh started the MongoDB-wire server (nx-27017), if it did.
enum TestMongo {
    static var url: String? {
        guard let host = TestEnvironment.value("TANDEM_TEST_MONGO_HOST"),
              let port = TestEnvironment.value("TANDEM_TEST_MONGO_PORT") else { return nil }
        return "mongodb://\(host):\(port)/\(TestEnvironment.value("TANDEM_TEST_MONGO_DB") ?? "tandem")"
    }
}

/// avp_db_query with a mongodb:// URL and cache_raw_query, on the offload pool, against nx-27017.
@Suite(.serialized, .enabled(if: TestMongo.url != nil, "TANDEM_TEST_MONGO_* not set (start with scripts/test.sh)"))
struct MongoScriptTests {
    static func fixtures() throws {
        let pool = try MongoClientPool.shared(url: TestMongo.url ?? "")
        _ = pool.run(json: #"{"delete": "subscriber", "deletes": [{"q": {}, "limit": 0}]}"#)
        let inserted = pool.run(json: #"{"insert": "subscriber", "documents": [{"username": "alice", "credit": 42}, {"username": "bob", "credit": 7}]}"#)
        if case .failure(let error) = inserted { Issue.record("insert failed: \(error)") }
    }

    static var globals: String {
        """
        loadmodule "avpops.so"
        loadmodule "cachedb_mongodb.so"
        modparam("avpops", "db_url", "\(TestMongo.url ?? "")")
        modparam("cachedb_mongodb", "cachedb_url", "\(TestMongo.url ?? "")")
        modparam("tandem", "offload_limit", "mongodb=4")
        """
    }

    @Test("The MongoDB pools' server selection timeout is async_timeout's, at most libmongoc's 3 s")
    func selectionTimeoutFollowsAsyncTimeout() throws {
        func pools(_ asyncTimeout: String) -> [Int] {
            let loaded = TandemServer.load(source: asyncTimeout + Self.globals + "\nroute { exit; }\n", fileName: "m.cfg")
            guard let databases = loaded.server?.drivers.databases else { return [] }
            let query = databases.databases.compactMap { ($0.backend as? MongoDatabase)?.pool }
            return (query + [databases.cacheMongo].compactMap { $0 }).map(\.configuration.serverSelectionTimeoutMs)
        }
        #expect(pools("async_timeout=1\n") == [1_000, 1_000])
        #expect(pools("") == [3_000, 3_000], "default async_timeout 30 s: libmongoc's 3 s")
    }

    func ask(_ proxy: ScriptedProxy, user: String, id: String) throws -> String? {
        let client = try SIPTestClient(proxyPort: proxy.port)
        var text = String(decoding: client.request("INVITE", branch: "z9hG4bK-mongo-\(id)", callID: "mongo-\(id)"),
                          as: UTF8.self)
        text = text.replacingOccurrences(of: "Contact:", with: "X-User: \(user)\r\nContact:")
        try client.send(Array(text.utf8))
        return client.waitFor(timeout: 8) { $0 >= 200 }.match?.reasonPhrase
    }

    @Test("MongoDB loss and recovery reach the backend health: a closed port is a loss, an answer a recovery")
    func backendHealth() throws {
        try Self.fixtures()
        let closed = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                if ($hdr(X-User) == "down") {
                    async(avp_db_query("{\\"find\\": \\"subscriber\\", \\"filter\\": {}}", "$avp(x)", "2"), done);
                } else {
                    async(avp_db_query("{\\"find\\": \\"subscriber\\", \\"filter\\": {\\"username\\": \\"alice\\"}, \\"projection\\": {\\"credit\\": 1, \\"_id\\": 0}}", "$avp(x)"), done);
                }
            }
            route[done] {
                t_reply(299, "rc=$rc");
            }
            """, globals: "async_timeout=1\n" + Self.globals
                + "\nmodparam(\"avpops\", \"db_url\", \"2 mongodb://127.0.0.1:\(closed)/tandem\")\n")
        let backends = proxy.server.engine.backends
        let started = nowMs()
        let down = try ask(proxy, user: "down", id: "h1")
        #expect(down == "rc=-1" || down == "rc=-3", "\(down ?? "no reply")")
        #expect(nowMs() - started < 2000, "within the 1 s async_timeout")
        let lost = backends.health(driver: "mongodb", address: "mongodb://127.0.0.1:\(closed)")
        #expect(lost.lossCount == 1 && lost.isDown)

        let live = backends.health(driver: "mongodb", address: BackendObservation.httpOrigin(TestMongo.url ?? "") ?? "")
        live.lost("test")
        #expect(try ask(proxy, user: "alice", id: "h2") == "rc=1")
        #expect(live.recoveryCount == 1 && !live.isDown)
    }

    @Test("async avp_db_query with a MongoDB find; values are JSON-escaped and cannot widen the filter")
    func asyncFind() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(avp_db_query("{\\"find\\": \\"subscriber\\", \\"filter\\": {\\"username\\": \\"$hdr(X-User)\\"}, \\"projection\\": {\\"credit\\": 1, \\"_id\\": 0}}", "$avp(credit)"), done);
            }
            route[done] {
                t_reply(299, "rc=$rc credit=$avp(credit)");
            }
            """, globals: Self.globals)
        #expect(try ask(proxy, user: "alice", id: "1") == "rc=1 credit=42")
        #expect(try ask(proxy, user: "nobody", id: "2") == "rc=-2 credit=<null>")
        #expect(try ask(proxy, user: #"x"}, "username": {"$ne": "z"#, id: "3") == "rc=-2 credit=<null>")
    }

    @Test("cache_raw_query with mongodb returns each document as JSON")
    func rawQuery() throws {
        try Self.fixtures()
        let proxy = try ScriptedProxy(routes: """
            route {
                cache_raw_query("mongodb", "{\\"find\\": \\"subscriber\\", \\"filter\\": {\\"username\\": \\"$hdr(X-User)\\"}}", "$avp(res)");
                if ($avp(res) =~ "\\"credit\\" *: *7") { t_reply(299, "rc=$rc found"); } else { t_reply(299, "rc=$rc $avp(res)"); }
            }
            """, globals: Self.globals)
        let reason = try ask(proxy, user: "bob", id: "4")
        #expect(reason == "rc=1 found", "\(reason ?? "nil")")
    }
}
