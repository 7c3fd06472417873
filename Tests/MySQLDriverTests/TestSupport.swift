import MySQLDriver
import Reactor
import TandemAsync
import TandemTestSupport

/// The test server from `TANDEM_TEST_SERVERS=mariadb scripts/test.sh` (absent: server tests skip).
enum TestServer {
    static var url: String? { TestEnvironment.mysqlURL }
    static var available: Bool { url != nil }
    static var repositoryRoot: String { TestEnvironment.repositoryRoot }
}

/// A worker: reactor + async engine + one pool.
final class Harness {
    let reactor: Reactor
    let engine: AsyncEngine
    let worker: AsyncWorker
    let pool: MySQLPool

    init(url: String, configuration: MySQLPoolConfiguration = MySQLPoolConfiguration(), health: BackendHealth? = nil) throws {
        reactor = try Reactor()
        engine = AsyncEngine()
        worker = engine.makeWorker(reactor: reactor)
        pool = MySQLPool(settings: try MySQLConnectionSettings(url), reactor: reactor, configuration: configuration,
                         health: health)
    }

    deinit {
        pool.close()
        engine.shutdown()
    }

    /// Runs the loop until `condition` holds or `limitMs` passed.
    func spin(limitMs: UInt64 = 5000, until condition: () -> Bool) throws {
        try TandemTestSupport.spin(reactor, limitMs: Int(limitMs), until: condition)
    }

    /// Starts one query as an async job and returns its result.
    func query(_ sql: String, _ parameters: [String?] = [], mode: AsyncMode? = .native, timeoutMs: UInt64 = 5000) throws -> AsyncResult {
        let got = Box<AsyncResult?>(nil)
        worker.start(MySQLQueryOperation(pool: pool, sql: sql, parameters: parameters), mode: mode, timeoutMs: timeoutMs) {
            got.value = $0
        }
        try spin(limitMs: timeoutMs + 5000) { got.value != nil }
        return got.value ?? AsyncResult(rc: -99)
    }
}

extension AsyncResult {
    /// Column `index` as a list (empty if absent).
    func column(_ index: Int) -> [String?] {
        if case .list(let values)? = output(MySQLQueryOperation.outputName(column: index)) { return values }
        return []
    }

    var errorText: String { output("error")?.stringValue ?? "" }
}
