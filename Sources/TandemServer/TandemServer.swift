import Glibc
import Logging
import DNSResolver
import Reactor
import TandemAsync
import TandemOperations
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
        /// The script's TLS domains (`tls_mgm`), contexts built; nil without tls_mgm or with errors.
        public var tls: TLSConfiguration? = nil
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

    /// The operations endpoint (`/metrics`, `/health`, `/stats`), when the config loads httpd.
    public let operations: OperationsEndpoint?

    init(script: Script, settings: ProxySettings, engine: AsyncEngineConfiguration, drivers: DriverSettings,
         operations: OperationsConfiguration?, drainTimeSeconds: Int, logger: Logger) {
        self.script = script
        self.drivers = drivers
        self.drainTimeSeconds = drainTimeSeconds
        self.logger = logger
        // Metrics are published only when /metrics is served; then async latencies also feed its histograms.
        let publisher = operations?.metricsPath != nil ? MetricsPublisher() : nil
        let engine = AsyncEngine(configuration: engine, latencyRecorders: publisher?.latencyRecorders)
        self.engine = engine
        // A backend's loss and recovery: one line each for the process (rate-limited per backend).
        engine.backends.setReporter { [logger] health, event in
            switch event {
            case .lost(let reason):
                logger.error("backend lost", metadata: ["driver": .string(health.driver),
                                                        "backend": .string(health.address),
                                                        "error": .string(reason)])
            case .recovered:
                logger.notice("backend recovered", metadata: ["driver": .string(health.driver),
                                                              "backend": .string(health.address)])
            }
        }
        let router = ScriptRouter(script: script, workers: settings.workers, logger: logger)
        self.router = router
        var settings = settings
        settings.dns = drivers.dns
        let core = ProxyCore(settings: settings, router: router, logger: logger)
        self.operations = operations.map { configuration in
            OperationsEndpoint(
                configuration: configuration,
                sources: OperationsSources(
                    counters: core.counters,
                    transactionsInUse: { core.transactionCount + core.clientTransactionCount },
                    engine: engine,
                    scriptCounters: { router.statistics.snapshot() },
                    readiness: { core.isDraining ? (false, "draining") : (true, "running") },
                    dns: core.settings.dns,
                    streams: core.settings.hasStreams ? core.streams : nil,
                    streamTransports: (tcp: !core.settings.tcpListen.isEmpty, tls: !core.settings.tlsListen.isEmpty)),
                publisher: publisher)
        }
        self.proxy = ProxyServer(core: core, logger: logger,
                                 onWorkerStart: { worker in
                                     let services = WorkerServices(asyncWorker: engine.makeWorker(reactor: worker.reactor),
                                                                   settings: drivers)
                                     router.attach(services, toWorker: worker.index)
                                     services.warmUpDatabases()
                                     if worker.index == 0 {
                                         router.scheduleTimerRoutes(on: worker)
                                         UsrlocSync.startTimer(core: core, services: services, worker: worker)
                                     }
                                 },
                                 onWorkerStop: { worker in
                                     router.detach(worker: worker.index)
                                     DNSResolver.releaseShared(for: worker.reactor)
                                 })
    }

    let router: ScriptRouter
    let logger: Logger
    /// The drivers' settings every worker's services get.
    let drivers: DriverSettings

    /// Checks `source`, and when it is clean builds a server (not started).
    public static func load(source: String, fileName: String,
                            logger: Logger = Logger(label: "tandem")) -> Loaded {
        let result = ScriptChecker().check(source: source, fileName: fileName)
        var loaded = Loaded(diagnostics: result.diagnostics, missing: result.missing, server: nil, config: result.config)
        guard let script = result.script, !result.hasErrors else { return loaded }
        let (baseSettings, problems) = ServerConfiguration.settings(for: result.config, file: fileName)
        let settings = baseSettings.map { UsrlocSync.withTables(of: result.ast, $0) }
        let (engine, engineProblems) = ServerConfiguration.asyncEngine(for: result.config)
        let mongoLimit = engine?.offload.limits["mongodb"] ?? ServerConfiguration.defaultMongoLimit
        let (databases, databaseProblems) = DatabaseConfiguration.parse(
            result.config, mongoLimit: mongoLimit,
            callTimeoutMs: engine?.defaultTimeoutMs ?? AsyncEngineConfiguration().defaultTimeoutMs)
        let (http, httpProblems) = ServerConfiguration.httpSettings(for: result.config)
        let (ldap, ldapProblems) = LDAPConfiguration.parse(result.config)
        let (dns, dnsProblems) = ServerConfiguration.dnsSettings(for: result.config)
        let (tls, tlsDiagnostics) = ServerConfiguration.tlsConfiguration(for: result.config)
        let tlsProblems = tlsDiagnostics.filter { $0.severity == .error }
        loaded.tls = tls
        let (_, logProblems) = LogConfiguration.format(for: result.config)
        let (drainTime, drainProblems) = ServerConfiguration.drainTime(for: result.config)
        let (operations, operationsProblems) = ServerConfiguration.operations(for: result.config)
        let callProblems = databaseProblems.isEmpty && ldapProblems.isEmpty
            ? DriverCallChecks.diagnostics(ast: result.ast, databases: databases, ldap: ldap) : []
        let errors = problems + engineProblems + databaseProblems + httpProblems + ldapProblems + logProblems
            + drainProblems + callProblems + dnsProblems + operationsProblems.filter { $0.severity == .error }
            + tlsProblems
        loaded.diagnostics += tlsDiagnostics.filter { $0.severity != .error }
        loaded.diagnostics += errors + operationsProblems.filter { $0.severity != .error }
            + ServerConfiguration.ignoredParameters(in: result.config)
            + (engine.map { ServerConfiguration.offloadWarnings(for: $0, config: result.config) } ?? [])
        if var settings, let engine, let http, let drainTime, errors.isEmpty {
            settings.tls = tls.map(StreamTLS.init(configuration:))
            let environment = DNSEnvironment(settings: dns ?? DNSSettings())
            // Host names compared with addresses (`src_ip == backup.example.com`) are resolved here, once,
            // before any worker runs: a comparison never waits for DNS.
            let unresolved = script.resolveHostNames { name in
                HostAddressLookup.addresses(of: name, settings: environment.settings, hosts: environment.hosts)
            }
            for (name, location) in unresolved {
                loaded.diagnostics.append(Diagnostic(location, "host name '\(name)' does not resolve: comparisons "
                                                     + "with it match only the name itself as text", severity: .warning))
            }
            loaded.server = TandemServer(script: script, settings: settings, engine: engine,
                                         drivers: DriverSettings(databases: databases, ldap: ldap, http: http,
                                                                 dns: environment),
                                         operations: operations, drainTimeSeconds: drainTime, logger: logger)
        }
        return loaded
    }

    /// Opens the operations endpoint (if configured), runs `startup_route`, binds the sockets and starts
    /// the workers (timer routes run on worker 0). A busy or unusable httpd address fails like a busy
    /// SIP port: an `IOError` naming the address.
    public func start() throws(IOError) {
        if let operations {
            do {
                try operations.start()
            } catch {
                throw IOError(errno: error.errno ?? EADDRNOTAVAIL,
                              function: "httpd listen on \(operations.configuration.authority)")
            }
            let paths = [operations.configuration.metricsPath].compactMap { $0 }
                + (operations.configuration.management ? ["/health", "/stats"] : [])
            logger.info("operations endpoint listening", metadata: [
                "address": "\(operations.configuration.authority)", "paths": "\(paths.joined(separator: ","))",
            ])
        }
        runStartupRoute()
        loadLocationTable()
        do {
            try proxy.start()
        } catch {
            operations?.stop()
            throw error
        }
    }

    /// Runs `startup_route` on this thread with services of its own (a reactor that only serves the
    /// blocking calls; closed after).
    private func runStartupRoute() {
        guard script.startupRoute != nil else { return }
        guard let reactor = try? Reactor() else {
            logger.error("startup_route: cannot create a reactor; it runs without async functions")
            router.runStartupRoute(services: nil)
            return
        }
        let services = WorkerServices(asyncWorker: engine.makeWorker(reactor: reactor), settings: drivers)
        router.runStartupRoute(services: services)
        DNSResolver.releaseShared(for: reactor)
        reactor.close()
    }

    /// usrloc in a database mode: purges the expired rows and loads the live ones (write-through,
    /// write-back) before the workers start, on services of this thread.
    private func loadLocationTable() {
        guard core.settings.registrar.mode.usesDatabase else { return }
        withStartupServices { services, reactor in
            UsrlocSync.load(core: core, services: services, locationNow: reactor.now.nanoseconds / 1_000_000_000,
                            logger: logger)
        }
    }

    /// Runs `body` with worker services on a reactor of this thread (closed after).
    private func withStartupServices(_ body: (WorkerServices, Reactor) -> Void) {
        guard let reactor = try? Reactor() else {
            logger.error("usrloc: cannot create a reactor to reach the location table")
            return
        }
        body(WorkerServices(asyncWorker: engine.makeWorker(reactor: reactor), settings: drivers), reactor)
        DNSResolver.releaseShared(for: reactor)
        reactor.close()
    }

    /// Stops the workers and the offload pool. In write-back the changed contacts are written first.
    public func stop() {
        proxy.stop()
        if core.settings.registrar.mode == .writeBack {
            withStartupServices { services, reactor in
                UsrlocSync.run(core: core, services: services, now: reactor.now.nanoseconds / 1_000_000_000) { operation, done in
                    done(services.asyncWorker.runSynchronously(operation))
                }
            }
        }
        engine.shutdown()
        operations?.stop()
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

    /// Gives `worker` (a worker made without sockets for driving ``core`` in memory, see
    /// `WorkerContext(reactor:memory:core:)`) the per-worker services a started worker gets: an async
    /// worker on its reactor (so `async(sleep…)` runs on that reactor's clock) and the drivers' settings.
    /// Call on the worker's thread; ``detachWorker(_:)`` before its reactor closes. The server is not started.
    public func attachWorker(_ worker: WorkerContext) {
        router.attach(WorkerServices(asyncWorker: engine.makeWorker(reactor: worker.reactor), settings: drivers),
                      toWorker: worker.index)
    }

    /// Releases what ``attachWorker(_:)`` gave `worker`.
    public func detachWorker(_ worker: WorkerContext) {
        router.detach(worker: worker.index)
    }
}
