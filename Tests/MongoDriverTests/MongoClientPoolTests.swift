import MongoDriver
import TandemAsync
import Testing
import TandemTestSupport

/// URL handling of the pool and failures without a server (no test server needed).
@Suite struct MongoClientPoolTests {
    @Test func databaseComesFromTheURLPathOrTheConfiguration() throws {
        #expect(try MongoClientPool(url: "mongodb://127.0.0.1:1/opensips").database == "opensips")
        let fallback = try MongoClientPool(url: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100",
                                           configuration: MongoPoolConfiguration(database: "tandem"))
        #expect(fallback.database == "tandem")
        #expect(try MongoClientPool(url: "mongodb://127.0.0.1:1/a", configuration: MongoPoolConfiguration(database: "b")).database == "a")
    }

    @Test func openSIPSStyleURLsAreNormalized() throws {
        #expect(MongoURL("mongodb://h:1/db") == MongoURL("mongodb://h:1/db"))
        #expect(MongoURL("mongodb://h:1/db").collection == nil)
        let cachedb = MongoURL("mongodb:cluster1://10.0.0.1:27017,10.0.0.2:27017/opensipsDB.userlocation?replicaSet=rs0")
        #expect(cachedb.url == "mongodb://10.0.0.1:27017,10.0.0.2:27017/opensipsDB?replicaSet=rs0")
        #expect(cachedb.collection == "userlocation")
        let pool = try MongoClientPool(url: "mongodb:c://127.0.0.1:1/opensips.location")
        #expect(pool.database == "opensips" && pool.defaultCollection == "location")
    }

    @Test func urlOptionsWinOverTheConfiguration() throws {
        let pool = try MongoClientPool(url: "mongodb://127.0.0.1:1/db?socketTimeoutMS=1234",
                                       configuration: MongoPoolConfiguration(socketTimeoutMs: 99))
        #expect(pool.socketTimeoutMs == 1234)
        #expect(try MongoClientPool(url: "mongodb://127.0.0.1:1/db", configuration: MongoPoolConfiguration(socketTimeoutMs: 99)).socketTimeoutMs == 99)
    }

    @Test func sharedPoolsAreOnePerURL() throws {
        let a = try MongoClientPool.shared(url: "mongodb://127.0.0.1:1/shared_a")
        #expect(try MongoClientPool.shared(url: "mongodb://127.0.0.1:1/shared_a") === a)
        #expect(try MongoClientPool.shared(url: "mongodb://127.0.0.1:1/shared_b") !== a)
        #expect(throws: MongoError.self) { try MongoClientPool.shared(url: "mongodb://127.0.0.1:1/") }
    }

    @Test func badURLsThrow() {
        #expect(throws: MongoError.self) { try MongoClientPool(url: "postgres://127.0.0.1/db") }
        #expect(throws: MongoError.self) { try MongoClientPool(url: "mongodb://127.0.0.1:1/") }
        #expect(throws: MongoError.self) { try MongoClientPool(url: "mongodb://127.0.0.1:notaport/db") }
    }

    @Test func unreachableServerIsMinus1WithinTheSelectionTimeout() throws {
        let pool = try MongoClientPool(url: "mongodb://127.0.0.1:\(closedPort())/db",
                                       configuration: MongoPoolConfiguration(serverSelectionTimeoutMs: 200, connectTimeoutMs: 200))
        let t0 = nowMs()
        let r = MongoCommandOperation.run(json: #"{"find": "t", "filter": {}}"#, on: pool, timeoutMs: 1000)
        #expect(r.rc == -1)
        #expect(!r.errorText.isEmpty)
        #expect(nowMs() - t0 < 1500)
        #expect(pool.failureCount == 1 && pool.busyCount == 0)
    }

    @Test func selectionTimeoutFollowsTheCallTimeout() {
        #expect(MongoPoolConfiguration.serverSelectionTimeout(forCallTimeoutMs: 500) == 500)
        #expect(MongoPoolConfiguration.serverSelectionTimeout(forCallTimeoutMs: 30_000) == 3_000)
        #expect(MongoPoolConfiguration.serverSelectionTimeout(forCallTimeoutMs: 0) == 1)
        #expect(MongoPoolConfiguration().serverSelectionTimeoutMs == 3_000)
    }

    /// A killed server (closed port) with a 0.5 s call: the call fails within about its timeout, not after
    /// libmongoc's 3 s server selection (default connect timeout, as the server configures the pool).
    @Test func closedPortFailsWithinAHalfSecondCallTimeout() throws {
        let selection = MongoPoolConfiguration.serverSelectionTimeout(forCallTimeoutMs: 500)
        let pool = try MongoClientPool(url: "mongodb://127.0.0.1:\(closedPort())/db",
                                       configuration: MongoPoolConfiguration(serverSelectionTimeoutMs: selection))
        let t0 = nowMs()
        let r = MongoCommandOperation.run(json: #"{"find": "t", "filter": {}}"#, on: pool, timeoutMs: 500)
        let elapsed = nowMs() - t0
        #expect(r.rc == -1 || r.rc == -3, "rc \(r.rc)")
        #expect(elapsed < 1000, "returned after \(elapsed) ms")
        #expect(pool.busyCount == 0)
    }
}
