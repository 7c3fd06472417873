/// What the operations endpoint serves and where: the `httpd` listener address and which of
/// `prometheus` (`/metrics`) and `mi_http` (`/health`, `/stats`) are loaded.
public struct OperationsConfiguration: Sendable, Equatable {
    /// The IP address to listen on (only this address is bound).
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The path of the Prometheus exposition (`"/metrics"`), `nil` without the prometheus module.
    public var metricsPath: String?
    /// Whether `/health` and `/stats` are served (mi_http loaded).
    public var management: Bool

    /// The httpd module's defaults.
    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8888

    public init(host: String = OperationsConfiguration.defaultHost, port: Int = OperationsConfiguration.defaultPort,
                metricsPath: String? = "/metrics", management: Bool = true) {
        self.host = host
        self.port = port
        self.metricsPath = metricsPath
        self.management = management
    }

    /// `host:port` as written in a URL (IPv6 in brackets).
    public var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The base URL of the endpoint, e.g. `http://127.0.0.1:8888`.
    public var baseURL: String { "http://\(authority)" }

    /// The path `/ROOT` for a prometheus `root` parameter (`"metrics"`, `"/metrics"`, `"a/b"`).
    public static func path(forRoot root: String) -> String {
        var trimmed = Substring(root)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return "/" + trimmed
    }
}
