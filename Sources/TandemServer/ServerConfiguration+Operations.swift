import Reactor
import TandemOperations
import TandemScript

extension ServerConfiguration {
    /// The operations endpoint, OpenSIPS style: `loadmodule "httpd.so"` with
    /// `modparam("httpd", "ip" | "port", …)` (default 127.0.0.1:8888) opens the listener;
    /// `loadmodule "prometheus.so"` serves `/metrics` (`modparam("prometheus", "root", "metrics")`);
    /// `loadmodule "mi_http.so"` serves `/health` and `/stats`.
    ///
    /// Returns `nil` without httpd (no listener). Errors: prometheus or mi_http without httpd, an ip that
    /// is not an IP address, a port outside 1...65535, an empty or clashing prometheus root. A warning
    /// when httpd serves nothing.
    public static func operations(for config: ScriptConfig) -> (OperationsConfiguration?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let unknown = SourceLocation(file: "", line: 0, column: 0)
        func location(ofModule module: String) -> SourceLocation { config.moduleLocations[module] ?? unknown }
        let metrics = config.isLoaded("prometheus")
        let management = config.isLoaded("mi_http")
        guard config.isLoaded("httpd") else {
            for module in ["prometheus", "mi_http"] where config.isLoaded(module) {
                diagnostics.append(Diagnostic(location(ofModule: module),
                    "module '\(module)' needs the httpd module: add loadmodule \"httpd.so\" (and modparam(\"httpd\", \"ip\"/\"port\", …))"))
            }
            return (nil, diagnostics)
        }
        var result = OperationsConfiguration(metricsPath: nil, management: management)
        for decl in config.modparams {
            switch (decl.module, decl.param) {
            case ("httpd", "ip"):
                let ip = decl.value.plainText.trimmingSpaces()
                guard SocketAddress(ip: ip, port: 1) != nil else {
                    diagnostics.append(Diagnostic(decl.location,
                        "httpd ip: '\(ip)' is not an IPv4 or IPv6 address (the endpoint listens on exactly this address)"))
                    continue
                }
                var host = Substring(ip)
                if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
                result.host = String(host)
            case ("httpd", "port"):
                guard let port = decl.value.intValue, (1...65535).contains(port) else {
                    diagnostics.append(Diagnostic(decl.location,
                        "httpd port: '\(decl.value.plainText)' is not a TCP port (1-65535)"))
                    continue
                }
                result.port = port
            default:
                break
            }
        }
        if metrics {
            let root = config.modparam("prometheus", "root")?.plainText ?? "metrics"
            let path = OperationsConfiguration.path(forRoot: root)
            let rootLocation = config.modparams.last { $0.module == "prometheus" && $0.param == "root" }?.location
                ?? location(ofModule: "prometheus")
            if path == "/" {
                diagnostics.append(Diagnostic(rootLocation, "prometheus root must not be empty"))
            } else if management && (path == "/health" || path == "/stats") {
                diagnostics.append(Diagnostic(rootLocation,
                    "prometheus root '\(root)' clashes with mi_http's \(path)"))
            } else {
                result.metricsPath = path
            }
        }
        guard diagnostics.isEmpty else { return (nil, diagnostics) }
        if !metrics && !management {
            diagnostics.append(Diagnostic(location(ofModule: "httpd"),
                "httpd is loaded without prometheus or mi_http: its listener serves nothing", severity: .warning))
        }
        return (result, diagnostics)
    }
}
