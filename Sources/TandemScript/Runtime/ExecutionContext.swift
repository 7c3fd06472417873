/// Per-message execution state handed to `Script.run`: the message, the proxy, variables,
/// AVPs, return code and route parameters.
public struct ExecutionContext {
    public var message: any ScriptMessage
    public var proxy: any ScriptProxy
    public var logger: any ScriptLogger
    /// Cache shared by all workers for cache_store/cache_fetch/cache_remove.
    public var cache: LocalCache
    /// update_stat(name, delta) sink.
    public var stats: (@Sendable (String, Int) -> Void)?
    /// `$avp(...)` values; belong to the transaction.
    public var avps: AVPStore
    /// `$var(...)` values by compile-time slot.
    public var vars: [ScriptValue]
    /// `$rc` / `$retcode`.
    public var rc: Int = 1
    /// `$param(n)` values of the route being run (n = index + 1).
    public var params: [ScriptValue] = []
    /// Jobs started with `launch()` during this run; the host starts them after `run` returns.
    public var launches: [LaunchRequest] = []
    /// xlog messages above this level are discarded (from `log_level`).
    public var logLevel: ScriptLogLevel
    /// Upper bound of iterations of a single `while` loop.
    public var maxWhileLoops: Int
    /// Statements executed so far (only counted by instrumented benchmark scripts).
    public internal(set) var statementCount: Int = 0
    var pendingAsync: AsyncRequest?
    var callDepth = 0

    /// Maps a numeric `log_level` to the highest xlog level that is printed.
    static func level(for value: Int) -> ScriptLogLevel {
        if let l = ScriptLogLevel(rawValue: value) { return l }
        if value > 4 { return .debug }
        if value == 0 { return .error }
        return .alert
    }

    /// Creates a context for one worker. Pass the `LocalCache` shared by all workers; AVPs start
    /// empty (assign `avps` from the transaction when resuming).
    public init(script: Script, message: any ScriptMessage, proxy: any ScriptProxy,
                logger: any ScriptLogger = NullScriptLogger(), cache: LocalCache = LocalCache(),
                stats: (@Sendable (String, Int) -> Void)? = nil) {
        self.message = message
        self.proxy = proxy
        self.logger = logger
        self.cache = cache
        self.stats = stats
        self.avps = AVPStore(count: script.avpNames.count)
        self.vars = Array(repeating: .null, count: script.varNames.count)
        self.logLevel = ExecutionContext.level(for: script.config.logLevel)
        self.maxWhileLoops = script.config.maxWhileLoops
    }

    /// Prepares the context for the next message on the same worker: clears `$var`s, AVPs,
    /// return code, params and launches, and takes the new message.
    public mutating func reset(message: any ScriptMessage) {
        self.message = message
        for i in vars.indices { vars[i] = .null }
        avps.reset()
        rc = 1
        params.removeAll(keepingCapacity: true)
        launches.removeAll(keepingCapacity: true)
        pendingAsync = nil
        callDepth = 0
    }
}
