import CMongoC
import Synchronization

/// `mongoc_init()` exactly once per process (a global `let` initializer runs once, thread-safely).
private let mongocInitialized: Bool = {
    mongoc_init()
    MongoLog.attach()
    return true
}()

/// The process-wide MongoDB connection pool for one `mongodb://` URL: a `mongoc_client_pool_t` shared by
/// every offload thread. Each call pops a client, runs, and pushes it back.
///
/// `@unchecked Sendable`: the pool pointer is created in `init`, destroyed in `deinit` and otherwise
/// only used through `mongoc_client_pool_pop/push`, which libmongoc documents as thread-safe; each
/// popped client is used by one thread until pushed back. The counters are atomics.
public final class MongoClientPool: @unchecked Sendable {
    /// The URL as given.
    public let url: String
    /// The collection named in an OpenSIPS-style URL (`/db.collection`), if any.
    public let defaultCollection: String?
    /// The database commands run on (URL path, else ``MongoPoolConfiguration/database``).
    public let database: String
    /// The settings.
    public let configuration: MongoPoolConfiguration

    private let uri: OpaquePointer
    private let pool: OpaquePointer
    private let busy = Atomic<Int>(0)
    private let peakBusy = Atomic<Int>(0)
    private let calls = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)

    /// Parses the URL and creates the pool (connections open lazily, on the first call). OpenSIPS forms
    /// are accepted: `mongodb:group://host/db.collection` (see ``MongoURL``).
    /// - Throws: ``MongoError`` for a malformed URL or when no database is named.
    public init(url: String, configuration: MongoPoolConfiguration = MongoPoolConfiguration()) throws(MongoError) {
        _ = mongocInitialized
        var error = bson_error_t()
        let normalized = MongoURL(url)
        guard let uri = mongoc_uri_new_with_error(normalized.url, &error) else {
            throw MongoError(domain: error.domain, code: error.code, message: "bad MongoDB URL: \(MongoError(error).message)")
        }
        let fromURL = mongoc_uri_get_database(uri).map { String(cString: $0) }
        guard let database = fromURL.flatMap({ $0.isEmpty ? nil : $0 }) ?? configuration.database, !database.isEmpty else {
            mongoc_uri_destroy(uri)
            throw MongoError(message: "MongoDB URL names no database (mongodb://host:port/DATABASE)")
        }
        Self.setDefault(uri, MONGOC_URI_SOCKETTIMEOUTMS, configuration.socketTimeoutMs)
        Self.setDefault(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, configuration.serverSelectionTimeoutMs)
        Self.setDefault(uri, MONGOC_URI_CONNECTTIMEOUTMS, configuration.connectTimeoutMs)
        Self.setDefault(uri, MONGOC_URI_MAXPOOLSIZE, max(1, configuration.maxPoolSize))
        guard let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            mongoc_uri_destroy(uri)
            throw MongoError(domain: error.domain, code: error.code, message: "MongoDB pool: \(MongoError(error).message)")
        }
        mongoc_client_pool_set_error_api(pool, 2)
        _ = mongoc_client_pool_set_appname(pool, "tandem")
        self.url = url
        self.defaultCollection = normalized.collection
        self.database = database
        self.configuration = configuration
        self.uri = uri
        self.pool = pool
    }

    deinit {
        mongoc_client_pool_destroy(pool)
        mongoc_uri_destroy(uri)
    }

    private static func setDefault(_ uri: OpaquePointer, _ option: String, _ value: Int) {
        if !mongoc_uri_has_option(uri, option) {
            _ = mongoc_uri_set_option_as_int32(uri, option, Int32(clamping: value))
        }
    }

    /// The effective `socketTimeoutMS` (URL option, else the configuration's).
    public var socketTimeoutMs: Int {
        Int(mongoc_uri_get_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, Int32(clamping: configuration.socketTimeoutMs)))
    }

    /// Blocking calls running now (each holds, or waits for, a client).
    public var busyCount: Int { busy.load(ordering: .relaxed) }
    /// Most blocking calls that ran at once.
    public var peakBusyCount: Int { peakBusy.load(ordering: .relaxed) }
    /// Calls made so far.
    public var callCount: Int { calls.load(ordering: .relaxed) }
    /// Calls that ended with an error.
    public var failureCount: Int { failures.load(ordering: .relaxed) }

    /// Runs `body` with a client of the pool (blocking; waits for a client if all are in use).
    func withClient<R>(_ body: (OpaquePointer) throws(MongoError) -> R) throws(MongoError) -> R {
        calls.add(1, ordering: .relaxed)
        let now = busy.add(1, ordering: .relaxed).newValue
        var seen = peakBusy.load(ordering: .relaxed)
        while now > seen {
            let (done, original) = peakBusy.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if done { break }
            seen = original
        }
        defer { busy.subtract(1, ordering: .relaxed) }
        do throws(MongoError) {
            guard let client = mongoc_client_pool_try_pop(pool) ?? mongoc_client_pool_pop(pool) else {
                throw MongoError(message: "no MongoDB client available from the pool")
            }
            defer { mongoc_client_pool_push(pool, client) }
            return try body(client)
        } catch {
            failures.add(1, ordering: .relaxed)
            throw error
        }
    }

    /// Runs one command document (JSON) and returns its documents (blocking). See ``MongoCommand``.
    public func run(json: String, timeoutMs: UInt64? = nil) -> Result<[String], MongoError> {
        do throws(MongoError) {
            let documents = try MongoCommand(json: json, timeoutMs: timeoutMs).run(on: self)
            return .success(documents.map(\.relaxedJSON))
        } catch {
            return .failure(error)
        }
    }
}
