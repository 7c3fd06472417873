import Foundation
import SIPCore
import Synchronization
import Testing
import TandemAsync
import TandemOperations
import TandemProxy

/// The /stats JSON shape, the metrics publisher (counters by delta, gauges by value) and the router,
/// without any socket.
struct OperationsSnapshotTests {
    static func sample(started: Int = 7, completed: Int = 5, requests: Int = 3, stat: Int = 2,
                       offloadLimit: Int? = nil) -> OperationsSnapshot {
        OperationsSnapshot(
            state: "running", uptimeSeconds: 1.5,
            sip: OperationsSnapshot.SIP(
                datagramsReceived: 10, parseErrors: 1, requestsReceived: requests, responsesReceived: 4,
                retransmissionsAbsorbed: 0, strayResponses: 0, localReplies: 2, sendErrors: 0,
                serverTransactionsCreated: 3, clientTransactionsCreated: 3, transactionsInUse: 2, suspendedNow: 1,
                requestsByMethod: ["INVITE": requests], repliesReceivedByCode: ["200": 4],
                repliesSentByCode: ["100": 3, "200": 4]),
            async: OperationsSnapshot.Async(
                drivers: [OperationsSnapshot.Driver(
                    driver: "usleep", started: started, completed: completed, timedOut: 1, cancelled: 0, rejected: 0,
                    lateDropped: 0, inFlight: started - completed - 1, queued: 0, offloadBusy: 0,
                    offloadLimit: offloadLimit,
                    latencyMs: OperationsSnapshot.Latency(boundsMs: AsyncDriverCounters.latencyBucketsMs,
                                                          counts: [1, 0, 2] + Array(repeating: 0, count: 10) + [2]))],
                offload: OperationsSnapshot.Offload(threads: 0, threadsPeak: 0, threadsBusy: 0, threadLimit: 0)),
            script: OperationsSnapshot.Script(counters: ["calls": stat]))
    }

    @Test("Latency buckets are cumulative with a final +Inf bucket equal to the count")
    func cumulativeBuckets() {
        let latency = OperationsSnapshot.Latency(boundsMs: [1, 5, 10], counts: [2, 0, 3, 4])
        #expect(latency.buckets.map(\.le) == ["1", "5", "10", "+Inf"])
        #expect(latency.buckets.map(\.count) == [2, 2, 5, 9])
        #expect(latency.count == 9)
    }

    @Test("/stats JSON uses snake_case keys, writes offload_limit null, and decodes back")
    func jsonShape() throws {
        let snapshot = Self.sample()
        let data = try JSONEncoder().encode(snapshot)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["state", "uptime_seconds", "sip", "async", "script"])
        let sip = try #require(object["sip"] as? [String: Any])
        for key in ["datagrams_received", "parse_errors", "requests_received", "responses_received",
                    "retransmissions_absorbed", "local_replies", "send_errors", "server_transactions_created",
                    "client_transactions_created", "transactions_in_use", "suspended_now", "requests_by_method",
                    "replies_received_by_code", "replies_sent_by_code"] {
            #expect(sip[key] != nil, "sip.\(key)")
        }
        let async = try #require(object["async"] as? [String: Any])
        let driver = try #require((async["drivers"] as? [[String: Any]])?.first)
        #expect(Set(driver.keys) == ["driver", "started", "completed", "timed_out", "cancelled", "rejected",
                                     "late_dropped", "in_flight", "queued", "offload_busy", "offload_limit",
                                     "latency_ms"])
        #expect(driver["offload_limit"] is NSNull)
        let offload = try #require(async["offload"] as? [String: Any])
        #expect(Set(offload.keys) == ["threads", "threads_peak", "threads_busy", "thread_limit"])
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""le":"+Inf""#))
        #expect(try JSONDecoder().decode(OperationsSnapshot.self, from: data) == snapshot)
        #expect(snapshot.async.driver("usleep")?.isBalanced == true)
    }

    @Test("The publisher records counters by their increase and gauges by value, into its own registry")
    func publisherDeltas() {
        let publisher = MetricsPublisher()
        let other = MetricsPublisher()
        publisher.publish(Self.sample(started: 7, completed: 5, requests: 3, stat: 2, offloadLimit: 4))
        publisher.publish(Self.sample(started: 9, completed: 8, requests: 5, stat: -1, offloadLimit: 4))
        let text = publisher.exposition()
        let metrics = PrometheusText(text)
        #expect(metrics.value(#"tandem_async_started_total{driver="usleep"}"#) == 9)
        #expect(metrics.value(#"tandem_async_completed_total{driver="usleep"}"#) == 8)
        #expect(metrics.value(#"tandem_async_in_flight{driver="usleep"}"#) == 0)
        #expect(metrics.value(#"tandem_async_offload_limit{driver="usleep"}"#) == 4)
        #expect(metrics.value(#"tandem_sip_requests_received_total{method="INVITE"}"#) == 5)
        #expect(metrics.value(#"tandem_sip_replies_sent_total{code="100"}"#) == 3)
        #expect(metrics.value(#"tandem_sip_transactions_created_total{side="server"}"#) == 3)
        #expect(metrics.value(#"tandem_script_stat{name="calls"}"#) == -1)
        #expect(metrics.value("tandem_sip_suspended_transactions") == 1)
        #expect(text.contains("# TYPE tandem_sip_parse_errors_total counter"))
        #expect(other.exposition().isEmpty, "registries are per publisher")
    }

    @Test("The latency recorder feeds a Prometheus histogram with the engine's bucket bounds")
    func latencyHistogram() throws {
        let publisher = MetricsPublisher()
        let record = try #require(publisher.latencyRecorders("exec"))
        record(3_000_000)  // 3 ms
        record(40_000_000_000)  // 40 s: above every bound
        let metrics = PrometheusText(publisher.exposition())
        #expect(metrics.value(#"tandem_async_latency_seconds_bucket{driver="exec",le="0.001"}"#) == 0)
        #expect(metrics.value(#"tandem_async_latency_seconds_bucket{driver="exec",le="0.005"}"#) == 1)
        #expect(metrics.value(#"tandem_async_latency_seconds_bucket{driver="exec",le="30.0"}"#) == 1)
        #expect(metrics.value(#"tandem_async_latency_seconds_bucket{driver="exec",le="+Inf"}"#) == 2)
        #expect(metrics.value(#"tandem_async_latency_seconds_count{driver="exec"}"#) == 2)
        #expect(metrics.lines(prefix: #"tandem_async_latency_seconds_bucket{driver="exec""#).count
                == AsyncDriverCounters.latencyBucketsMs.count + 1)
    }

    @Test("The router serves the configured paths, 404 elsewhere, 405 for non-GET; health from the hook")
    func routing() throws {
        let engine = AsyncEngine()
        let sources = OperationsSources(counters: ProxyCounters(), transactionsInUse: { 0 }, engine: engine,
                                        scriptCounters: { [(name: "x", value: 1)] },
                                        readiness: { (false, "draining") })
        let router = OperationsRouter(
            configuration: OperationsConfiguration(metricsPath: OperationsConfiguration.path(forRoot: "prom/")),
            sources: sources, publisher: MetricsPublisher())
        #expect(router.respond(method: "GET", target: "/prom").status == 200)
        #expect(router.respond(method: "GET", target: "/metrics").status == 404)
        #expect(router.respond(method: "GET", target: "/stats?pretty=1").status == 200)
        #expect(router.respond(method: "POST", target: "/stats").status == 405)
        #expect(router.respond(method: "POST", target: "/stats").headers.first { $0.0 == "Allow" }?.1 == "GET")
        let health = try JSONDecoder().decode(OperationsHealth.self,
                                              from: Data(router.respond(method: "GET", target: "/health").body))
        #expect(health == OperationsHealth(live: true, ready: false, state: "draining"))
        let stats = try JSONDecoder().decode(OperationsSnapshot.self,
                                             from: Data(router.respond(method: "GET", target: "/stats").body))
        #expect(stats.state == "draining")
        #expect(stats.script.counters == ["x": 1])

        let noMetrics = OperationsRouter(configuration: OperationsConfiguration(metricsPath: nil), sources: sources,
                                         publisher: nil)
        #expect(noMetrics.respond(method: "GET", target: "/metrics").status == 404)
        let noManagement = OperationsRouter(configuration: OperationsConfiguration(management: false),
                                            sources: sources, publisher: MetricsPublisher())
        #expect(noManagement.respond(method: "GET", target: "/stats").status == 404)
    }

    @Test("Per-method and per-code counters keep fixed slots; extension methods count as 'other'")
    func methodAndCodeSlots() throws {
        #expect(ProxyCounters.methodNames.count == 15)
        #expect(ProxyCounters.methodIndex(.invite) == 0)
        #expect(ProxyCounters.methodNames[ProxyCounters.methodIndex(try #require(SIPMethod("FOO")))] == "other")
        let counters = ProxyCounters()
        counters.requestsByMethod.increment(ProxyCounters.methodIndex(.bye))
        counters.repliesSentByCode.increment(486 - 100)
        counters.repliesSentByCode.increment(700 - 100)  // out of range: ignored
        #expect(counters.requestsByMethodSnapshot() == ["BYE": 1])
        #expect(ProxyCounters.byCode(counters.repliesSentByCode) == [486: 1])
    }

    @Test("/stats carries the refusals by reason, ICMP errors, memory trims and each backend's losses")
    func hardeningFigures() throws {
        let counters = ProxyCounters()
        counters.hostNamesRefused.add(2, ordering: .relaxed)
        counters.overloadRejected.add(5, ordering: .relaxed)
        counters.icmpErrors.add(3, ordering: .relaxed)
        counters.memoryTrims.add(1, ordering: .relaxed)
        let engine = AsyncEngine()
        defer { engine.shutdown() }
        engine.backends.health(driver: "postgres", address: "127.0.0.1:5432/db").lost("refused")
        let sources = OperationsSources(counters: counters, transactionsInUse: { 0 }, engine: engine,
                                        scriptCounters: { [] }, readiness: { (true, "running") })
        let snapshot = sources.snapshot(uptimeSeconds: 1)
        #expect(snapshot.sip.refusedByReason == ["host_name": 2, "overload": 5, "unsupported_scheme": 0,
                                                 "unsupported_extension": 0])
        #expect(snapshot.sip.icmpErrors == 3)
        #expect(snapshot.sip.memoryTrims == 1)
        #expect(snapshot.async.backends == [OperationsSnapshot.Async.Backend(driver: "postgres", backend: "127.0.0.1:5432/db",
                                                                            up: false, losses: 1, recoveries: 0)])
        let json = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        #expect(json.contains("\"refused_by_reason\""))
        #expect(json.contains("\"icmp_errors\":3"))
        #expect(json.contains("\"backends\":[{"))
    }
}

/// Values of a Prometheus text exposition, by series (`name{labels}`).
struct PrometheusText {
    let text: String

    init(_ text: String) { self.text = text }

    /// Lines of series starting with `prefix`.
    func lines(prefix: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
    }

    /// The value of the series written exactly as `series`.
    func value(_ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
