import Glibc
import MongoDriver
import Reactor
import Synchronization
import TandemAsync
import TandemTestSupport

/// The test server from `TANDEM_TEST_SERVERS=mongo scripts/test.sh` (absent: server tests skip).
enum TestServer {
    static var url: String? { TestEnvironment.mongoURL }
    static var database: String { TestEnvironment.value("TANDEM_TEST_MONGO_DB") ?? "tandem" }
    static var available: Bool { url != nil }
    /// The repository root (for scripts/test-servers/mongo.sh).
    static var repositoryRoot: String { TestEnvironment.repositoryRoot }
}

private let collectionCounter = Atomic<Int>(0)

/// A unique collection name per call (the shared server keeps data between tests and runs).
func uniqueCollection(_ stem: String) -> String {
    "\(stem)_\(getpid())_\(nowMs() % 1_000_000)_\(collectionCounter.add(1, ordering: .relaxed).newValue)"
}

/// A worker: reactor + async engine (offload limit/queue for "mongodb") + the shared pool.
final class Harness {
    let reactor: Reactor
    let engine: AsyncEngine
    let worker: AsyncWorker
    let pool: MongoClientPool

    init(url: String = TestServer.url ?? "", limit: Int = 8, queue: Int = 64,
         configuration: MongoPoolConfiguration = MongoPoolConfiguration(database: TestServer.database)) throws {
        reactor = try Reactor()
        let offload = OffloadPool.Configuration(limits: OffloadLimits(["mongodb": limit]),
                                                queueBounds: OffloadLimits(["mongodb": queue]))
        engine = AsyncEngine(configuration: AsyncEngineConfiguration(offload: offload))
        worker = engine.makeWorker(reactor: reactor)
        pool = try MongoClientPool(url: url, configuration: configuration)
    }

    deinit { engine.shutdown() }

    /// Runs the loop until `condition` holds or `limitMs` passed.
    func spin(limitMs: UInt64 = 5000, until condition: () -> Bool) throws {
        try TandemTestSupport.spin(reactor, limitMs: Int(limitMs), until: condition)
    }

    /// Starts one command as an async job and returns its result.
    func command(_ json: String, raw: Bool = false, mode: AsyncMode? = nil, timeoutMs: UInt64 = 5000) throws -> AsyncResult {
        let got = Box<AsyncResult?>(nil)
        let operation: any AsyncOperation = raw ? MongoRawQueryOperation(pool: pool, json: json)
                                                : MongoCommandOperation(pool: pool, json: json)
        worker.start(operation, mode: mode, timeoutMs: timeoutMs) { got.value = $0 }
        try spin(limitMs: timeoutMs + 5000) { got.value != nil }
        return got.value ?? AsyncResult(rc: -99)
    }
}

extension AsyncResult {
    /// Column `index` as a list (empty if absent).
    func column(_ index: Int) -> [String?] {
        if case .list(let values)? = output(MongoCommandOperation.outputName(column: index)) { return values }
        return []
    }

    /// A `.list` output by name (empty if absent).
    func list(_ name: String) -> [String?] {
        if case .list(let values)? = output(name) { return values }
        return []
    }

    var errorText: String { output("error")?.stringValue ?? "" }
}
