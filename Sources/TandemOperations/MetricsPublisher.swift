import CoreMetrics
import Prometheus
import Synchronization
import TandemAsync

/// Publishes a server's figures through swift-metrics into its own Prometheus registry.
///
/// The atomic counters of the proxy and the async engine stay the source of truth on the packet path;
/// at scrape time ``publish(_:)`` (a Prometheus-style collector) records an ``OperationsSnapshot`` into
/// swift-metrics: counters by their increase since the previous publish, gauges by value. The one
/// figure recorded as it happens is the async latency: ``latencyRecorders`` feeds a swift-metrics
/// `Timer` per driver, exported as a Prometheus histogram with the buckets of
/// `AsyncDriverCounters.latencyBucketsMs`.
///
/// Each publisher has its own registry and factory, passed explicitly to every metric: nothing is
/// bootstrapped globally, so many servers can run in one process.
///
/// Metrics (counters end in `_total`):
/// - `tandem_uptime_seconds`, `tandem_ready` (gauges)
/// - `tandem_sip_datagrams_received_total`, `tandem_sip_parse_errors_total`,
///   `tandem_sip_retransmissions_absorbed_total`, `tandem_sip_held_reply_retransmissions_absorbed_total`,
///   `tandem_sip_stray_responses_total`,
///   `tandem_sip_local_replies_total`, `tandem_sip_send_errors_total`,
///   `tandem_sip_transactions_created_total{side="server"|"client"}`,
///   `tandem_sip_requests_received_total{method}`, `tandem_sip_replies_received_total{code}`,
///   `tandem_sip_replies_sent_total{code}`
/// - `tandem_sip_transactions_in_use`, `tandem_sip_suspended_transactions` (gauges)
/// - per driver: `tandem_async_{started,completed,timed_out,cancelled,rejected,late_dropped}_total{driver}`,
///   gauges `tandem_async_{in_flight,queued,offload_busy,offload_limit}{driver}`, histogram
///   `tandem_async_latency_seconds{driver}`
/// - offload pool gauges: `tandem_offload_threads`, `tandem_offload_threads_peak`,
///   `tandem_offload_threads_busy`, `tandem_offload_thread_limit`
/// - `tandem_script_stat{name}`: each `update_stat` counter (a gauge: updates may be negative)
public final class MetricsPublisher: Sendable {
    /// Name of the async latency histogram (seconds, label `driver`).
    public static let latencyMetric = "tandem_async_latency_seconds"

    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into ``registry``.
    public let factory: PrometheusMetricsFactory
    private let published = Mutex<Published>(Published())

    /// swift-metrics handles created so far, with the last value each counter published.
    private struct Published {
        var counters: [MetricKey: (counter: CoreMetrics.Counter, last: Int)] = [:]
        var gauges: [MetricKey: CoreMetrics.Gauge] = [:]
    }

    /// A metric name with its label pairs.
    private struct MetricKey: Hashable {
        var name: String
        var labels: [String]

        init(_ name: String, _ labels: [(String, String)]) {
            self.name = name
            self.labels = labels.flatMap { [$0.0, $0.1] }
        }
    }

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Self.latencyMetric] =
            AsyncDriverCounters.latencyBucketsMs.map { .milliseconds(Int64($0)) }
        self.registry = registry
        self.factory = factory
    }

    /// Per driver, a recorder that adds each completed job's latency to the driver's swift-metrics
    /// `Timer`. Give it to `AsyncEngine(configuration:latencyRecorders:)`.
    public var latencyRecorders: AsyncLatencyRecorderFactory {
        let factory = self.factory
        return { driver in
            let timer = CoreMetrics.Timer(label: Self.latencyMetric, dimensions: [("driver", driver)], factory: factory)
            return { nanoseconds in timer.recordNanoseconds(Int64(clamping: nanoseconds)) }
        }
    }

    /// Records `snapshot` into swift-metrics (see the type's description for the metric names);
    /// `ready` (from the readiness hook) becomes `tandem_ready`, else `state == "running"` does.
    public func publish(_ snapshot: OperationsSnapshot, ready: Bool? = nil) {
        published.withLock { state in
            func counter(_ name: String, _ labels: [(String, String)] = [], _ value: Int) {
                let key = MetricKey(name, labels)
                guard let entry = state.counters[key] else {
                    let created = CoreMetrics.Counter(label: name, dimensions: labels, factory: factory)
                    if value > 0 { created.increment(by: Int64(value)) }
                    state.counters[key] = (created, max(0, value))
                    return
                }
                if value > entry.last {
                    entry.counter.increment(by: Int64(value - entry.last))
                    state.counters[key] = (entry.counter, value)
                }
            }
            func gauge(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
                let key = MetricKey(name, labels)
                if let existing = state.gauges[key] {
                    existing.record(value)
                } else {
                    let created = CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
                    created.record(value)
                    state.gauges[key] = created
                }
            }

            gauge("tandem_uptime_seconds", [], snapshot.uptimeSeconds)
            gauge("tandem_ready", [], (ready ?? (snapshot.state == "running")) ? 1 : 0)
            let sip = snapshot.sip
            counter("tandem_sip_datagrams_received_total", [], sip.datagramsReceived)
            counter("tandem_sip_parse_errors_total", [], sip.parseErrors)
            counter("tandem_sip_retransmissions_absorbed_total", [], sip.retransmissionsAbsorbed)
            counter("tandem_sip_held_reply_retransmissions_absorbed_total", [], sip.heldReplyRetransmissionsAbsorbed)
            counter("tandem_sip_stray_responses_total", [], sip.strayResponses)
            counter("tandem_sip_local_replies_total", [], sip.localReplies)
            counter("tandem_sip_send_errors_total", [], sip.sendErrors)
            counter("tandem_sip_icmp_errors_total", [], sip.icmpErrors)
            counter("tandem_memory_trims_total", [], sip.memoryTrims)
            counter("tandem_sip_transactions_created_total", [("side", "server")], sip.serverTransactionsCreated)
            counter("tandem_sip_transactions_created_total", [("side", "client")], sip.clientTransactionsCreated)
            for backend in snapshot.async.backends {
                let labels = [("driver", backend.driver), ("backend", backend.backend)]
                counter("tandem_backend_losses_total", labels, backend.losses)
                counter("tandem_backend_recoveries_total", labels, backend.recoveries)
                gauge("tandem_backend_up", labels, backend.up ? 1 : 0)
            }
            for (reason, value) in sip.refusedByReason {
                counter("tandem_sip_refused_total", [("reason", reason)], value)
            }
            for (method, value) in sip.requestsByMethod {
                counter("tandem_sip_requests_received_total", [("method", method)], value)
            }
            for (code, value) in sip.repliesReceivedByCode {
                counter("tandem_sip_replies_received_total", [("code", code)], value)
            }
            for (code, value) in sip.repliesSentByCode {
                counter("tandem_sip_replies_sent_total", [("code", code)], value)
            }
            if let dns = snapshot.dns {
                for (name, value) in dns.counters { counter("tandem_dns_\(name)_total", [], value) }
                gauge("tandem_dns_cache_entries", [], Double(dns.cacheEntries))
                gauge("tandem_dns_blacklisted", [], Double(dns.blacklist.count))
                for (server, values) in dns.servers ?? [:] {
                    for (name, value) in values { counter("tandem_dns_server_\(name)_total", [("server", server)], value) }
                }
            }
            if let tcp = snapshot.tcp {
                for (name, value) in tcp where name != "open" { counter("tandem_tcp_\(name)_total", [], value) }
                gauge("tandem_tcp_connections_open", [], Double(tcp["open"] ?? 0))
            }
            if let tls = snapshot.tls {
                for (name, value) in tls where name != "open" { counter("tandem_tls_\(name)_total", [], value) }
                gauge("tandem_tls_connections_open", [], Double(tls["open"] ?? 0))
            }
            gauge("tandem_sip_transactions_in_use", [], Double(sip.transactionsInUse))
            gauge("tandem_sip_suspended_transactions", [], Double(sip.suspendedNow))

            for d in snapshot.async.drivers {
                let label = [("driver", d.driver)]
                counter("tandem_async_started_total", label, d.started)
                counter("tandem_async_completed_total", label, d.completed)
                counter("tandem_async_timed_out_total", label, d.timedOut)
                counter("tandem_async_cancelled_total", label, d.cancelled)
                counter("tandem_async_rejected_total", label, d.rejected)
                counter("tandem_async_late_dropped_total", label, d.lateDropped)
                gauge("tandem_async_in_flight", label, Double(d.inFlight))
                gauge("tandem_async_queued", label, Double(d.queued))
                gauge("tandem_async_offload_busy", label, Double(d.offloadBusy))
                if let limit = d.offloadLimit { gauge("tandem_async_offload_limit", label, Double(limit)) }
            }
            let offload = snapshot.async.offload
            gauge("tandem_offload_threads", [], Double(offload.threads))
            gauge("tandem_offload_threads_peak", [], Double(offload.threadsPeak))
            gauge("tandem_offload_threads_busy", [], Double(offload.threadsBusy))
            gauge("tandem_offload_thread_limit", [], Double(offload.threadLimit))

            // update_stat values may go down (negative deltas): a gauge, not a counter.
            for (name, value) in snapshot.script.counters {
                gauge("tandem_script_stat", [("name", name)], Double(value))
            }
        }
    }

    /// The registry in the Prometheus text format, as last published.
    public func exposition() -> String { registry.emitToString() }

    /// Publishes `snapshot` and renders the registry in the Prometheus text format.
    public func scrape(_ snapshot: OperationsSnapshot, ready: Bool? = nil) -> [UInt8] {
        publish(snapshot, ready: ready)
        return registry.emitToBuffer()
    }
}
