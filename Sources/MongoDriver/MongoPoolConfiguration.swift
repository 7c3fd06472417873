/// Settings of a ``MongoClientPool``. URL options (`?socketTimeoutMS=…`) win over these defaults.
public struct MongoPoolConfiguration: Sendable, Equatable {
    /// Most clients (connections) the pool opens; calls beyond it wait for a free client. Keep it at
    /// least the engine's offload limit for `"mongodb"` (default 8).
    public var maxPoolSize: Int
    /// Database used when the URL has no path (`mongodb://host:port/db` names it).
    public var database: String?
    /// Socket read/write timeout (`socketTimeoutMS`) unless the URL sets one: the hard bound on how long
    /// one blocking call can keep an offload slot after the server stops answering.
    public var socketTimeoutMs: Int
    /// Server selection timeout (`serverSelectionTimeoutMS`) unless the URL sets one: how long a call
    /// waits for a usable server (a stopped server fails after this).
    public var serverSelectionTimeoutMs: Int
    /// TCP connect timeout (`connectTimeoutMS`) unless the URL sets one.
    public var connectTimeoutMs: Int
    /// Most documents one command returns to the script (later batches are not fetched, the cursor is killed).
    public var maxDocuments: Int
    /// Most `getMore` round trips for one command after its first batch.
    public var maxGetMores: Int

    /// libmongoc's default server selection timeout (ms), the most a call waits for a usable server.
    public static let defaultServerSelectionTimeoutMs = 3_000

    /// The server selection timeout for calls that end after `callTimeoutMs`: libmongoc's 3 s, or the
    /// call's timeout when shorter, so that a stopped or unreachable server fails a call (rc -1, or -3
    /// from the engine) within its timeout and frees its offload slot then, instead of after 3 s.
    public static func serverSelectionTimeout(forCallTimeoutMs callTimeoutMs: UInt64) -> Int {
        Int(clamping: min(UInt64(defaultServerSelectionTimeoutMs), max(1, callTimeoutMs)))
    }

    /// Creates a configuration.
    public init(maxPoolSize: Int = 8, database: String? = nil, socketTimeoutMs: Int = 10_000,
                serverSelectionTimeoutMs: Int = defaultServerSelectionTimeoutMs, connectTimeoutMs: Int = 2_000,
                maxDocuments: Int = 1_000, maxGetMores: Int = 16) {
        self.maxPoolSize = maxPoolSize
        self.database = database
        self.socketTimeoutMs = socketTimeoutMs
        self.serverSelectionTimeoutMs = serverSelectionTimeoutMs
        self.connectTimeoutMs = connectTimeoutMs
        self.maxDocuments = maxDocuments
        self.maxGetMores = maxGetMores
    }
}
