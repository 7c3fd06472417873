import Foundation

/// Maps a request (method, target) to the endpoint's answer: `GET /metrics` (Prometheus text),
/// `GET /health` and `GET /stats` (JSON), 404 for other paths, 405 for other methods.
public struct OperationsRouter: Sendable {
    /// What is served.
    public let configuration: OperationsConfiguration
    /// Where the figures come from.
    public let sources: OperationsSources
    /// The metrics publisher (`nil` when `/metrics` is not served).
    public let publisher: MetricsPublisher?
    /// When the endpoint started (for `uptime_seconds`).
    public let startedAt: ContinuousClock.Instant

    public init(configuration: OperationsConfiguration, sources: OperationsSources, publisher: MetricsPublisher?,
                startedAt: ContinuousClock.Instant = .now) {
        self.configuration = configuration
        self.sources = sources
        self.publisher = publisher
        self.startedAt = startedAt
    }

    /// The figures now.
    public func snapshot() -> OperationsSnapshot {
        let elapsed = ContinuousClock.now - startedAt
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return sources.snapshot(uptimeSeconds: seconds)
    }

    /// The answer to `method` `target` (the request target may carry a query string, ignored).
    public func respond(method: String, target: String) -> OperationsResponse {
        var path = Substring(target)
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        let known = (configuration.metricsPath.map { path == $0 } ?? false)
            || (configuration.management && (path == "/health" || path == "/stats"))
        guard known else { return .text(404, "not found: \(path)") }
        guard method == "GET" else { return .text(405, "method not allowed: \(method)", headers: [("Allow", "GET")]) }
        if let metricsPath = configuration.metricsPath, path == metricsPath, let publisher {
            return OperationsResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                      body: publisher.scrape(snapshot(), ready: sources.readiness().ready))
        }
        if path == "/health" {
            // 503 while not ready (draining), so load balancers and probes that read only the status act on it.
            let health = sources.health()
            return Self.json(health, status: health.ready ? 200 : 503)
        }
        return Self.json(snapshot())
    }

    static func json(_ value: some Encodable, status: Int = 200) -> OperationsResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return OperationsResponse(status: status, contentType: "application/json",
                                      body: Array(try encoder.encode(value)) + [UInt8(ascii: "\n")])
        } catch {
            return .text(500, "cannot encode: \(error)")
        }
    }
}
