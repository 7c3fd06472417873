import Foundation
import Glibc
import Logging
import Reactor
import Testing
import TandemOperations
import SIPCore
import TandemProxy
import TandemScript
import TandemServer
import TandemTestSupport

/// The operations endpoint of a running proxy: /metrics, /stats and /health over real HTTP on
/// 127.0.0.x, their figures under a SIPp load, the bound address, config errors and `tandem ctl`.
@Suite(.serialized)
struct OperationsEndpointTests {
    static func globals(httpPort: UInt16, ip: String = "127.0.0.1", extra: String = "") -> String {
        """
        loadmodule "cfgutils.so"
        loadmodule "statistics.so"
        loadmodule "httpd.so"
        loadmodule "prometheus.so"
        loadmodule "mi_http.so"
        modparam("httpd", "ip", "\(ip)")
        modparam("httpd", "port", \(httpPort))
        \(extra)
        """
    }

    static func get(_ port: UInt16, _ path: String, host: String = "127.0.0.1") throws -> OperationsClient.Reply {
        try OperationsClient.get(host: host, port: Int(port), path: path, timeoutSeconds: 5)
    }

    static func stats(_ port: UInt16) throws -> OperationsSnapshot {
        let reply = try get(port, "/stats")
        #expect(reply.status == 200)
        return try JSONDecoder().decode(OperationsSnapshot.self, from: Data(reply.body))
    }

    static func metrics(_ port: UInt16) throws -> PrometheusText {
        let reply = try get(port, "/metrics")
        #expect(reply.status == 200)
        return PrometheusText(reply.text)
    }

    static func load(_ source: String) -> TandemServer.Loaded {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return TandemServer.load(source: source, fileName: "ops.cfg", logger: logger)
    }

    static func config(sipPort: UInt16, modules: String) -> String {
        """
        log_level = 1
        udp_workers = 1
        socket = udp:127.0.0.1:\(sipPort)
        loadmodule "tm.so"
        loadmodule "sl.so"
        \(modules)
        route { sl_send_reply(200, "OK"); }
        """
    }

    // MARK: - (a) figures under load

    @Test("Under a SIPp load with async(usleep) and update_stat, /stats and /metrics add up during and after", .exclusiveLoad,
          .enabled(if: SIPp.isAvailable, "sipp not installed"))
    func figuresUnderLoad() throws {
        let calls = 1500
        let httpPort = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (has_totag()) {
                    if (loose_route()) { t_relay(); exit; }
                    sl_send_reply(404, "Not Here");
                    exit;
                }
                update_stat("calls_routed", 1);
                record_route();
                async(usleep(20000), relay);
            }
            route[relay] {
                if ($rc < 0) { t_reply(500, "usleep failed"); exit; }
                t_relay();
            }
            """, globals: Self.globals(httpPort: httpPort))
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "\(calls)"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: calls, rate: 150)

        // Sample both endpoints while the load runs: totals never go back, started never falls behind
        // completed + timed_out + cancelled + rejected + in_flight.
        var samplesDuringLoad = 0
        var lastStarted = 0
        var lastRequests = 0
        var lastMetricStarted = 0.0
        let deadline = Date().addingTimeInterval(30)
        while uac.process.isRunning && Date() < deadline {
            let stats = try Self.stats(httpPort)
            if let usleep = stats.async.driver("usleep") {
                #expect(usleep.started >= usleep.outcomesAndInFlight, "\(usleep)")
                #expect(usleep.inFlight >= 0 && usleep.started >= lastStarted)
                if usleep.started > 0 && usleep.started < calls { samplesDuringLoad += 1 }
                lastStarted = usleep.started
            }
            #expect(stats.sip.requestsReceived >= lastRequests)
            lastRequests = stats.sip.requestsReceived
            #expect(stats.state == "running")
            let metrics = try Self.metrics(httpPort)
            if let started = metrics.value(#"tandem_async_started_total{driver="usleep"}"#) {
                #expect(started >= lastMetricStarted)
                lastMetricStarted = started
            }
            usleep(150_000)
        }
        let client = uac.wait(seconds: 60)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == calls, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        #expect(samplesDuringLoad >= 3, "endpoint answered while jobs were in flight")

        // Let the last jobs resolve, then everything must balance exactly.
        var stats = try Self.stats(httpPort)
        for _ in 0..<50 where stats.sip.suspendedNow != 0 || (stats.async.driver("usleep")?.inFlight ?? 1) != 0 {
            usleep(100_000)
            stats = try Self.stats(httpPort)
        }
        let usleepDriver = try #require(stats.async.driver("usleep"))
        #expect(usleepDriver.isBalanced, "\(usleepDriver)")
        #expect(usleepDriver.started == calls && usleepDriver.completed == calls && usleepDriver.timedOut == 0)
        #expect(usleepDriver.latencyMs.count == calls)
        #expect(usleepDriver.latencyMs.buckets.last?.le == "+Inf")
        #expect(usleepDriver.latencyMs.buckets.count == 14)
        #expect(stats.sip.suspendedNow == 0)
        #expect(stats.script.counters["calls_routed"] == calls)
        let byMethod = stats.sip.requestsByMethod
        #expect(byMethod.values.reduce(0, +) == stats.sip.requestsReceived)
        if client.retransmissions == 0 {
            #expect(byMethod == ["INVITE": calls, "ACK": calls, "BYE": calls], "\(byMethod)")
        } else {
            #expect((byMethod["INVITE"] ?? 0) >= calls && (byMethod["BYE"] ?? 0) >= calls)
        }
        #expect((stats.sip.repliesReceivedByCode["200"] ?? 0) >= 2 * calls)
        #expect((stats.sip.repliesSentByCode["200"] ?? 0) >= 2 * calls)

        let metrics = try Self.metrics(httpPort)
        #expect(metrics.value(#"tandem_sip_requests_received_total{method="INVITE"}"#) == Double(byMethod["INVITE"] ?? -1))
        #expect(metrics.value(#"tandem_sip_requests_received_total{method="BYE"}"#) == Double(byMethod["BYE"] ?? -1))
        #expect(metrics.value(#"tandem_sip_replies_received_total{code="200"}"#)
                == Double(stats.sip.repliesReceivedByCode["200"] ?? -1))
        #expect(metrics.value(#"tandem_script_stat{name="calls_routed"}"#) == Double(calls))
        #expect(metrics.value(#"tandem_async_started_total{driver="usleep"}"#) == Double(calls))
        #expect(metrics.value(#"tandem_async_completed_total{driver="usleep"}"#) == Double(calls))
        #expect(metrics.value(#"tandem_async_in_flight{driver="usleep"}"#) == 0)
        #expect(metrics.value(#"tandem_async_latency_seconds_count{driver="usleep"}"#) == Double(calls))
        #expect(metrics.value(#"tandem_async_latency_seconds_bucket{driver="usleep",le="+Inf"}"#) == Double(calls))
        #expect(metrics.value(#"tandem_async_latency_seconds_bucket{driver="usleep",le="0.01"}"#) == 0,
                "usleep(20 ms) never completes within 10 ms")
        #expect(metrics.value("tandem_sip_suspended_transactions") == 0)
        #expect(metrics.value("tandem_sip_parse_errors_total") == Double(stats.sip.parseErrors))
        #expect(metrics.value("tandem_offload_threads") != nil)
        #expect(metrics.text.contains("# TYPE tandem_async_latency_seconds histogram"))
    }

    @Test("An async rest_get shows up as driver 'http' in /stats and /metrics",
          .enabled(if: TestHTTP.url != nil, "TANDEM_TEST_HTTP_URL not set (start with scripts/test.sh)"))
    func httpDriverFigures() throws {
        let httpPort = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(rest_get("\(HTTPScriptTests.base)/echo", $var(b)), got);
            }
            route[got] {
                update_stat("http_done", 1);
                t_reply(200, "rc=$rc");
            }
            """, globals: HTTPScriptTests.globals + "\n" + Self.globals(httpPort: httpPort))
        for i in 0..<3 {
            let client = try SIPTestClient(proxyPort: proxy.port)
            try client.send(client.request("INVITE", branch: "z9hG4bK-ops-http-\(i)", callID: "ops-http-\(i)"))
            #expect(client.waitFor(timeout: 8) { $0 >= 200 }.match?.statusCode == 200)
        }
        let stats = try Self.stats(httpPort)
        let http = try #require(stats.async.driver("http"), "\(stats.async.drivers.map(\.driver))")
        #expect(http.started == 3 && http.completed == 3 && http.isBalanced)
        #expect(stats.script.counters["http_done"] == 3)
        let metrics = try Self.metrics(httpPort)
        #expect(metrics.value(#"tandem_async_started_total{driver="http"}"#) == 3)
        #expect(metrics.value(#"tandem_async_latency_seconds_count{driver="http"}"#) == 3)
    }

    // MARK: - (b) bound address

    @Test("The endpoint listens only on the configured address (127.0.0.1 ≠ 127.0.0.2 ≠ ::1)")
    func bindsOnlyConfiguredAddress() throws {
        let httpPort = Ports.free()
        let proxy = try ScriptedProxy(routes: "route { sl_send_reply(200, \"OK\"); }",
                                      globals: Self.globals(httpPort: httpPort))
        #expect(proxy.server.operations?.boundPort == Int(httpPort))
        #expect(try Self.get(httpPort, "/health").status == 200)
        #expect(throws: OperationsClient.Failure.self) { try Self.get(httpPort, "/health", host: "127.0.0.2") }
        #expect(throws: OperationsClient.Failure.self) { try Self.get(httpPort, "/health", host: "::1") }

        let otherPort = Ports.free()
        let other = try ScriptedProxy(routes: "route { sl_send_reply(200, \"OK\"); }",
                                      globals: Self.globals(httpPort: otherPort, ip: "127.0.0.2"))
        #expect(try Self.get(otherPort, "/health", host: "127.0.0.2").status == 200)
        #expect(throws: OperationsClient.Failure.self) { try Self.get(otherPort, "/health") }
        _ = other
    }

    @Test("/health JSON, 404, 405, a custom prometheus root, and HTTP/1.1 keep-alive")
    func healthAndHTTP() throws {
        let httpPort = Ports.free()
        let proxy = try ScriptedProxy(routes: "route { sl_send_reply(200, \"OK\"); }",
                                      globals: Self.globals(httpPort: httpPort,
                                                            extra: #"modparam("prometheus", "root", "/prom/")"#))
        let health = try JSONDecoder().decode(OperationsHealth.self, from: Data(try Self.get(httpPort, "/health").body))
        #expect(health == OperationsHealth(live: true, ready: true, state: "running"))
        #expect(try Self.get(httpPort, "/prom").status == 200)
        #expect(try Self.get(httpPort, "/metrics").status == 404)
        #expect(try Self.get(httpPort, "/nothing").status == 404)
        let replies = try Self.rawExchange(port: httpPort,
            "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
            + "GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(replies.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == 2, "\(replies)")
        #expect(replies.contains("HTTP/1.1 405 Method Not Allowed"))
        _ = proxy
    }

    @Test("While draining, /health answers 503 with ready false and /stats says draining")
    func healthWhileDraining() throws {
        let httpPort = Ports.free()
        let proxy = try ScriptedProxy(routes: "route { sl_send_reply(200, \"OK\"); }",
                                      globals: Self.globals(httpPort: httpPort))
        #expect(try Self.get(httpPort, "/health").status == 200)
        proxy.server.beginDrain()
        let reply = try Self.get(httpPort, "/health")
        #expect(reply.status == 503)
        let health = try JSONDecoder().decode(OperationsHealth.self, from: Data(reply.body))
        #expect(health == OperationsHealth(live: true, ready: false, state: "draining"))
        #expect(try Self.stats(httpPort).state == "draining")
    }

    /// Writes `request` on one TCP connection and reads until the server closes it.
    static func rawExchange(port: UInt16, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    // MARK: - (c) config errors

    @Test("prometheus or mi_http without httpd, a bad port or ip: clear errors at load; no httpd: no listener")
    func configErrors() throws {
        let sip = Ports.free()
        let noHTTPD = Self.load(Self.config(sipPort: sip, modules: #"loadmodule "prometheus.so""#))
        #expect(noHTTPD.server == nil)
        #expect(noHTTPD.diagnostics.contains { $0.message.contains("'prometheus' needs the httpd module") && $0.line == 6 },
                "\(noHTTPD.diagnostics)")
        let miOnly = Self.load(Self.config(sipPort: sip, modules: #"loadmodule "mi_http.so""#))
        #expect(miOnly.diagnostics.contains { $0.message.contains("'mi_http' needs the httpd module") })

        for (param, value, message) in [("port", "70000", "not a TCP port"), ("port", "\"http\"", "not a TCP port"),
                                        ("port", "0", "not a TCP port"), ("ip", "\"localhost\"", "not an IPv4 or IPv6"),
                                        ("ip", "\"1.2.3\"", "not an IPv4 or IPv6")] {
            let loaded = Self.load(Self.config(sipPort: sip, modules: """
                loadmodule "httpd.so"
                loadmodule "mi_http.so"
                modparam("httpd", "\(param)", \(value))
                """))
            #expect(loaded.server == nil, "\(param)=\(value)")
            #expect(loaded.diagnostics.contains { $0.severity == .error && $0.message.contains(message) },
                    "\(loaded.diagnostics)")
        }

        let plain = Self.load(Self.config(sipPort: sip, modules: ""))
        #expect(plain.server != nil && plain.server?.operations == nil)
        let clean = Self.load(Self.config(sipPort: sip, modules: Self.globals(httpPort: 9999)))
        #expect(clean.missing.isEmpty)
        #expect(!clean.diagnostics.contains { $0.message.contains("httpd") || $0.message.contains("prometheus") },
                "\(clean.diagnostics)")
        #expect(clean.server?.operations?.configuration
                == OperationsConfiguration(host: "127.0.0.1", port: 9999, metricsPath: "/metrics", management: true))
        let defaults = Self.load(Self.config(sipPort: sip, modules: "loadmodule \"httpd.so\"\nloadmodule \"prometheus.so\""))
        #expect(defaults.server?.operations?.configuration
                == OperationsConfiguration(host: "127.0.0.1", port: 8888, metricsPath: "/metrics", management: false))
    }

    @Test("A busy httpd port fails start() with the address in the error, and the SIP port stays free")
    func portInUse() throws {
        let httpPort = Ports.free()
        let first = try ScriptedProxy(routes: "route { sl_send_reply(200, \"OK\"); }",
                                      globals: Self.globals(httpPort: httpPort))
        let sip = Ports.free()
        let loaded = Self.load(Self.config(sipPort: sip, modules: Self.globals(httpPort: httpPort)))
        let second = try #require(loaded.server, "\(loaded.diagnostics)")
        do {
            try second.start()
            second.stop()
            Issue.record("second server started on a busy httpd port")
        } catch {
            #expect(error.errno == EADDRINUSE)
            #expect("\(error)".contains("127.0.0.1:\(httpPort)"), "\(error)")
        }
        #expect(Ports.isFree(sip), "the SIP socket is not left bound")
        #expect(try Self.get(httpPort, "/health").status == 200, "the first server still answers")
        _ = first
    }

    // MARK: - (d) tandem ctl

    static var tandemBinary: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/debug/tandem").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static func runTandem(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(tandemBinary))
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("tandem ctl stats|health against a running server (by --url and by -f config); unreachable → exit 1",
          .enabled(if: tandemBinary != nil, "build the tandem binary first (swift build)"))
    func ctl() throws {
        let httpPort = Ports.free()
        let proxy = try ScriptedProxy(routes: "route { update_stat(\"seen\", 1); sl_send_reply(200, \"OK\"); }",
                                      globals: Self.globals(httpPort: httpPort))
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", branch: "z9hG4bK-ctl-1", callID: "ctl-1"))
        #expect(client.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 200)

        let stats = try Self.runTandem(["ctl", "stats", "--url", "http://127.0.0.1:\(httpPort)"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let snapshot = try JSONDecoder().decode(OperationsSnapshot.self, from: Data(stats.stdout.utf8))
        #expect(snapshot.sip.requestsByMethod["OPTIONS"] == 1)
        #expect(snapshot.script.counters["seen"] == 1)
        #expect(stats.stdout.contains("\n  \""), "pretty-printed")

        let config = NSTemporaryDirectory() + "tandem-ctl-\(getpid())-\(httpPort).cfg"
        try Self.config(sipPort: proxy.port, modules: Self.globals(httpPort: httpPort))
            .write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let health = try Self.runTandem(["ctl", "health", "-f", config])
        #expect(health.status == 0, "\(health.stderr)")
        let decoded = try JSONDecoder().decode(OperationsHealth.self, from: Data(health.stdout.utf8))
        #expect(decoded.ready && decoded.state == "running")

        let dead = Ports.free()
        let refused = try Self.runTandem(["ctl", "stats", "--url", "http://127.0.0.1:\(dead)"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("cannot reach") && refused.stderr.contains("127.0.0.1:\(dead)"), "\(refused.stderr)")
        let missing = try Self.runTandem(["ctl", "stats", "--url", "http://127.0.0.1:\(httpPort)/nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("HTTP 404"), "\(missing.stderr)")
    }
}
