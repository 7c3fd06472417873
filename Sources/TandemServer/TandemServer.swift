import Logging
import Reactor
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

    init(script: Script, settings: ProxySettings, logger: Logger) {
        self.script = script
        let router = ScriptRouter(script: script, workers: settings.workers, logger: logger)
        self.proxy = ProxyServer(core: ProxyCore(settings: settings, router: router, logger: logger), logger: logger)
    }

    /// Checks `source`, and when it is clean builds a server (not started).
    public static func load(source: String, fileName: String,
                            logger: Logger = Logger(label: "tandem")) -> Loaded {
        let result = ScriptChecker().check(source: source, fileName: fileName)
        var loaded = Loaded(diagnostics: result.diagnostics, missing: result.missing, server: nil, config: result.config)
        guard let script = result.script, !result.hasErrors else { return loaded }
        let (settings, problems) = ServerConfiguration.settings(for: result.config, file: fileName)
        loaded.diagnostics += problems
        if let settings, problems.isEmpty {
            loaded.server = TandemServer(script: script, settings: settings, logger: logger)
        }
        return loaded
    }

    /// Binds the sockets and starts the workers.
    public func start() throws(IOError) { try proxy.start() }

    /// Stops the workers.
    public func stop() { proxy.stop() }

    /// The proxy core (counters, settings).
    public var core: ProxyCore { proxy.core }
}
