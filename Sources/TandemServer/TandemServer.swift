import Logging
import Reactor
import HTTPDriver
import TandemAsync
import TandemProxy
import TandemScript

/// A Tandem instance built from a routing script: checks and compiles the script, derives the proxy
/// settings, and runs the UDP workers.
///
/// ```swift
/// let loaded = TandemServer.load(source: text, fileName: "proxy.cfg")
/// guard let server = loaded.server else { print(loaded.diagnostics); return }
/// try server.start()
/// ```
public final class TandemServer: Sendable {
    /// The outcome of loading a config: every diagnostic, what the script lacks, and the server when
    /// the config is usable.
    public struct Loaded: Sendable {
        public var diagnostics: [Diagnostic]
        public var missing: [MissingFeature]
        public var server: TandemServer?
        public var config: ScriptConfig
        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    /// The compiled script.
    public let script: Script
    /// The proxy (core and workers).
    public let proxy: ProxyServer
    /// The async engine (offload pool, per-driver counters).
    public let engine: AsyncEngine

    /// The longest a graceful shutdown drains, in seconds (`modparam("tandem", "drain_time", N)`).
    public let drainTimeSeconds: Int

    init(script: Script, settings: ProxySettings, engine: AsyncEngineConfiguration, databases: DatabaseConfiguration,
         ldap: LDAPConfiguration, drainTimeSeconds: Int, logger: Logger) {
        self.script = script
        self.drainTimeSeconds = drainTimeSeconds
        let engine = AsyncEngine(configuration: engine)
        self.engine = engine
        let router = ScriptRouter(script: script, workers: settings.workers, logger: logger)
        self.router = router
        self.proxy = ProxyServer(core: ProxyCore(settings: settings, router: router, logger: logger), logger: logger,
                                 onWorkerStart: { worker in
                                     worker.attachment = WorkerServices(
                                         asyncWorker: engine.makeWorker(reactor: worker.reactor), databases: databases,
                                         ldap: ldap)
                                     if worker.index == 0 { router.scheduleTimerRoutes(on: worker) }
                                 })
    }

    let router: ScriptRouter

    /// Checks `source`, and when it is clean builds a server (not started).
    public static func load(source: String, fileName: String,
                            logger: Logger = Logger(label: "tandem")) -> Loaded {
        let result = ScriptChecker().check(source: source, fileName: fileName)
        var loaded = Loaded(diagnostics: result.diagnostics, missing: result.missing, server: nil, config: result.config)
        guard let script = result.script, !result.hasErrors else { return loaded }
        let (settings, problems) = ServerConfiguration.settings(for: result.config, file: fileName)
        let (engine, engineProblems) = ServerConfiguration.asyncEngine(for: result.config)
        let mongoLimit = engine?.offload.limits["mongodb"] ?? ServerConfiguration.defaultMongoLimit
        let (databases, databaseProblems) = DatabaseConfiguration.parse(result.config, mongoLimit: mongoLimit)
        let (http, httpProblems) = ServerConfiguration.httpSettings(for: result.config)
        let (ldap, ldapProblems) = LDAPConfiguration.parse(result.config)
        let (_, logProblems) = LogConfiguration.format(for: result.config)
        let (drainTime, drainProblems) = ServerConfiguration.drainTime(for: result.config)
        let errors = problems + engineProblems + databaseProblems + httpProblems + ldapProblems + logProblems
            + drainProblems
        loaded.diagnostics += errors + ServerConfiguration.ignoredParameters(in: result.config)
        if let settings, let engine, let http, let drainTime, errors.isEmpty {
            // Each worker's curl multi reads these when first used, after start().
            HTTPDriverSettings.install(http)
            loaded.server = TandemServer(script: script, settings: settings, engine: engine, databases: databases,
                                         ldap: ldap, drainTimeSeconds: drainTime, logger: logger)
        }
        return loaded
    }

    /// Runs `startup_route`, binds the sockets and starts the workers (timer routes run on worker 0).
    public func start() throws(IOError) {
        router.runStartupRoute()
        try proxy.start()
    }

    /// Stops the workers and the offload pool.
    public func stop() {
        proxy.stop()
        engine.shutdown()
    }

    /// True once a graceful shutdown began draining (new requests get 503): report not ready.
    public var isDraining: Bool { proxy.core.isDraining }

    /// Starts draining: new initial requests get 503 with `Retry-After`, existing transactions and
    /// dialogs go on. See `ProxyCore.beginDrain(retryAfterSeconds:)`.
    public func beginDrain(retryAfterSeconds: Int = 5) {
        proxy.core.beginDrain(retryAfterSeconds: retryAfterSeconds)
    }

    /// What is still outstanding (suspended transactions, transactions awaiting a final reply).
    public var drainProgress: DrainProgress { proxy.core.drainProgress }

    /// The script's `update_stat` counters.
    public var statistics: ScriptStatistics { router.statistics }

    /// The proxy core (counters, settings).
    public var core: ProxyCore { proxy.core }
}
