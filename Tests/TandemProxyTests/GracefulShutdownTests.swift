import Foundation
import Glibc
import SIPCore
import Testing
import TandemTestSupport

/// Graceful shutdown of the real `tandem run` process (issue 8): SIGTERM drains and exits 0, a second
/// signal exits at once, a drain that runs out of time exits 1.
@Suite(.serialized, .exclusiveLoad, .enabled(if: TandemProcess.isAvailable, "tandem binary not built"))
struct GracefulShutdownTests {
    /// A config whose initial requests wait `sleep` seconds in async() and are then relayed.
    static func config(port: UInt16, sleep: Int, relayTo: String? = nil, extra: String = "") -> String {
        """
        log_level = 2
        udp_workers = 2
        socket = udp:127.0.0.1:\(port)
        loadmodule "tm.so"
        loadmodule "sl.so"
        loadmodule "rr.so"
        loadmodule "sipmsgops.so"
        loadmodule "cfgutils.so"
        \(extra)
        route {
            if (has_totag()) {
                if (loose_route()) { t_relay(); exit; }
                sl_send_reply(404, "Not Here");
                exit;
            }
            record_route();
            async(sleep(\(sleep)), resume);
        }
        route[resume] {
            t_relay(\(relayTo.map { "\"\($0)\"" } ?? ""));
        }
        """
    }

    /// Starts `tandem` on a free port and waits until it runs.
    static func start(sleep: Int, relayTo: String? = nil, extra: String = "",
                      arguments: [String] = []) throws -> (TandemProcess, UInt16) {
        let port = Ports.free()
        let tandem = try TandemProcess(config: config(port: port, sleep: sleep, relayTo: relayTo, extra: extra),
                                       arguments: arguments)
        guard tandem.waitForLog("tandem running", timeout: 10) else {
            tandem.kill()
            throw StartError(log: tandem.log)
        }
        return (tandem, port)
    }

    struct StartError: Error, CustomStringConvertible {
        let log: String
        var description: String { "tandem did not start:\n\(log)" }
    }

    /// The last value of `field` in a SIPp statistics CSV (-1 if none yet).
    static func sippStat(_ instance: SIPp.Instance, _ field: String) -> Int {
        guard let csv = try? String(contentsOfFile: instance.statsFile, encoding: .utf8) else { return -1 }
        let lines = csv.split(whereSeparator: \.isNewline)
        guard lines.count > 1, let header = lines.first, let last = lines.last else { return -1 }
        let names = header.split(separator: ";", omittingEmptySubsequences: false)
        let values = last.split(separator: ";", omittingEmptySubsequences: false)
        guard let index = names.firstIndex(where: { $0 == field }), index < values.count else { return -1 }
        return Int(values[index].trimmingCharacters(in: .whitespaces)) ?? -1
    }

    @Test("SIGTERM with 1,000 calls suspended in async(sleep 6): every call completes, exit 0 after they finish",
          .enabled(if: SIPp.isAvailable, "sipp not installed"))
    func drainsThousandCalls() throws {
        let (tandem, port) = try Self.start(sleep: 6)
        defer { tandem.kill() }
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "1000"])
        defer { uas.kill() }
        let started = Date()
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: "127.0.0.1:\(port)",
                               port: Ports.free(), controlPort: Ports.free(), calls: 1000, rate: 250,
                               extra: ["-l", "2000"])
        defer { uac.kill() }
        // At 250 calls/s (far below what the debug build serves, so a busy machine does not matter) every
        // INVITE is out after about 4 s; they all wait until 6 s after their arrival.
        usleep(3_500_000)
        let sendDeadline = Date().addingTimeInterval(6)
        while Self.sippStat(uac, "TotalCallCreated") < 1000 && Date() < sendDeadline { usleep(50_000) }
        tandem.send(SIGTERM)
        let signalled = Date()
        let status = tandem.waitForExit(timeout: 30)
        let exited = tandem.exitedAt ?? Date()
        let client = uac.wait(seconds: 20)
        let server = uas.wait(seconds: 30)
        let log = tandem.log
        #expect(status == 0, "\(log)")
        #expect(client.successful == 1000, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        // It drained rather than quitting: it waited for the suspended calls (6 s sleep) to finish.
        #expect(exited.timeIntervalSince(started) >= 6.0)
        #expect(exited.timeIntervalSince(signalled) >= 0.3)
        let suspended = tandem.logValue("suspended", inLineContaining: "draining") ?? -1
        #expect(suspended > 0, "suspended at SIGTERM: \(suspended)\n\(log)")
        #expect(log.contains("shutdown requested") && log.contains("signal=SIGTERM"))
        #expect(log.contains("drained; stopped"))
        #expect(log.contains("tandem exiting") && log.contains("status=0"))
    }

    @Test("A second SIGTERM while draining exits at once with status 1; new requests got 503 meanwhile")
    func secondSignalExitsAtOnce() throws {
        let uas = try SIPTestServer()
        let (tandem, port) = try Self.start(sleep: 5, relayTo: "udp:127.0.0.1:\(uas.port)")
        defer { tandem.kill() }
        let client = try SIPTestClient(proxyPort: port)
        for index in 0..<3 {
            try client.send(client.request("INVITE", branch: "z9hG4bK-second-\(index)", callID: "second-\(index)"))
            #expect(client.waitFor(timeout: 3) { $0 == 100 }.match != nil)
        }
        let sent = Date()
        tandem.send(SIGTERM)
        #expect(tandem.waitForLog("draining", timeout: 5), "\(tandem.log)")
        #expect(tandem.logValue("suspended", inLineContaining: "draining") == 3, "\(tandem.log)")
        // Draining: a new call is turned away.
        try client.send(client.request("INVITE", branch: "z9hG4bK-second-new", callID: "second-new"))
        let (rejected, _) = client.waitFor(timeout: 3) { $0 >= 200 }
        #expect(rejected?.statusCode == 503)
        #expect(rejected?.header(.retryAfter) != nil)
        usleep(200_000)
        tandem.send(SIGTERM)
        let second = Date()
        let status = tandem.waitForExit(timeout: 10)
        let exited = tandem.exitedAt ?? Date()
        #expect(status == 1, "\(tandem.log)")
        #expect(exited.timeIntervalSince(second) < 1.5)
        #expect(exited.timeIntervalSince(sent) < 4.5, "exited only after the 5 s sleep")
        #expect(tandem.log.contains("second shutdown signal"), "\(tandem.log)")
        #expect(tandem.logValue("abandoned", inLineContaining: "second shutdown signal") == 3, "\(tandem.log)")
        #expect(uas.receive(timeout: 0.1) == nil)
    }

    @Test("Drain time out (--drain-time 1 over drain_time 30, sleep 5): exit 1 after about 1 s, saying so")
    func drainTimeRunsOut() throws {
        let uas = try SIPTestServer()
        let (tandem, port) = try Self.start(sleep: 5, relayTo: "udp:127.0.0.1:\(uas.port)",
                                            extra: #"modparam("tandem", "drain_time", 30)"#,
                                            arguments: ["--drain-time", "1"])
        defer { tandem.kill() }
        let client = try SIPTestClient(proxyPort: port)
        for index in 0..<2 {
            try client.send(client.request("INVITE", branch: "z9hG4bK-timeout-\(index)", callID: "timeout-\(index)"))
            #expect(client.waitFor(timeout: 3) { $0 == 100 }.match != nil)
        }
        tandem.send(SIGTERM)
        let signalled = Date()
        let status = tandem.waitForExit(timeout: 10)
        let elapsed = (tandem.exitedAt ?? Date()).timeIntervalSince(signalled)
        #expect(status == 1, "\(tandem.log)")
        #expect(elapsed >= 0.9 && elapsed < 3, "exited \(elapsed) s after SIGTERM")
        #expect(tandem.log.contains("drain time ran out"), "\(tandem.log)")
        #expect(tandem.logValue("abandoned", inLineContaining: "drain time ran out") == 2, "\(tandem.log)")
        #expect(tandem.log.contains("status=1"))
    }
}
