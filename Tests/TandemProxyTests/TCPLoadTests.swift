import Foundation
import Glibc
import Reactor
import Synchronization
import Testing
import TandemTestSupport
@testable import TandemProxy

/// SIPp over TCP through Tandem, record-routed: one connection for all calls (`-t t1`), one per call
/// (`-t tn`), a UDP caller to a TCP callee (double Record-Route), and calls while many idle
/// connections (5,000) are held. Counts kept low for the suite; larger runs are done by hand.
@Suite(.serialized, .exclusiveLoad)
struct TCPLoadTests {
    /// Calls and rate of the SIPp runs: 500 (300 UDP→TCP) at 100/s in the suite;
    /// `TANDEM_TCPLOAD_CALLS` / `TANDEM_TCPLOAD_RATE` scale them by hand (e.g. 5000 at 200).
    static let scaledCalls = ProcessInfo.processInfo.environment["TANDEM_TCPLOAD_CALLS"].flatMap { Int($0) }
    static let rate = ProcessInfo.processInfo.environment["TANDEM_TCPLOAD_RATE"].flatMap { Int($0) } ?? 100

    /// A record-routing stateful proxy that sends every new call to the UAS over TCP.
    static func routes(uasPort: UInt16) -> String {
        """
        route {
            if (!mf_process_maxfwd_header(70)) { sl_send_reply(483, "Too Many Hops"); exit; }
            if (has_totag()) {
                if (loose_route()) { t_relay(); exit; }
                sl_send_reply(404, "Not Here");
                exit;
            }
            if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
            record_route();
            $du = "sip:127.0.0.1:\(uasPort);transport=tcp";
            if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
        }
        """
    }

    /// A UDP caller's ACK and BYE, sent back to back, may be read by two workers of a shared socket and
    /// reach the TCP callee in either order; over UDP a lost-in-order BYE is retransmitted by the proxy,
    /// over TCP it is not (RFC 3261 §17.1.2.2), and SIPp's UAS drops a BYE before the ACK. `per_worker`
    /// pins the caller to one worker, which keeps its order.
    @discardableResult
    func run(callerTransport: String?, calls: Int, rate: Int, idle: Int = 0, globals extra: String = "",
             afterStart: (ScriptedProxy) -> Void = { _ in }) throws -> UInt16 {
        let uasPort = Ports.free()
        let globals = (callerTransport == nil ? "modparam(\"tandem\", \"udp_sockets\", \"per_worker\")\n" : "") + extra
        let proxy = try ScriptedProxy(routes: Self.routes(uasPort: uasPort), globals: globals, workers: 2, tcp: true)
        afterStart(proxy)
        let baseline = openDescriptorCount()
        let held = IdleTCPConnections(count: idle, port: proxy.port)
        if idle > 0 {
            #expect(held.fds.count == idle)
            #expect(TCPTransportTests.eventually(30) { proxy.core.streams.connectionCount >= idle },
                    "accepted \(proxy.core.streams.connectionCount) of \(idle)")
            // Both ends live in this process: its descriptors grew by about two per connection.
            #expect(openDescriptorCount() >= baseline + 2 * idle)
        }
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "\(calls)", "-t", "t1"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: calls, rate: rate,
                               extra: callerTransport.map { ["-t", $0, "-max_socket", "2000"] } ?? [])
        let client = uac.wait(seconds: Double(calls / rate) + 60)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == calls, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        #expect(proxy.core.streams.counters.connectFailures.load(ordering: .relaxed) == 0)
        if idle > 0 {
            #expect(held.openCount == idle, "idle connections are kept")
            #expect(proxy.core.streams.counters.refused.load(ordering: .relaxed) == 0)
        }
        held.close()
        #expect(TCPTransportTests.eventually(10) { proxy.core.streams.connectionCount <= 1 },
                "only the connection to the UAS may remain once the callers left")
        if idle > 0 {
            // The peers left: the proxy closed their sockets, and the process is back to its descriptors
            // before them (the connection to the UAS and SIPp's pipes aside; other suites may run meanwhile).
            #expect(TCPTransportTests.eventually(10) { openDescriptorCount() <= baseline + 32 },
                    "descriptors: \(openDescriptorCount()) vs \(baseline) before the peers")
        }
        return proxy.port
    }

    @Test("SIPp over TCP, one connection (-t t1), record-routed: 500 calls, 0 failed")
    func singleConnection() throws {
        try run(callerTransport: "t1", calls: Self.scaledCalls ?? 500, rate: Self.rate)
    }

    @Test("SIPp over TCP, one connection per call (-t tn), record-routed: 500 calls, 0 failed")
    func connectionPerCall() throws {
        try run(callerTransport: "tn", calls: Self.scaledCalls ?? 500, rate: Self.rate)
    }

    @Test("UDP caller to TCP callee and back (double Record-Route): 300 calls, 0 failed")
    func udpToTCP() throws {
        try run(callerTransport: nil, calls: Self.scaledCalls ?? 300, rate: Self.rate)
    }

    @Test("5,000 idle TCP connections held while 300 calls go on over TCP: 0 failed; RLIMIT_NOFILE raised to fit; fds back to baseline after")
    func idleConnectionsDuringCalls() throws {
        let idle = 5_000
        let original = try #require(System.descriptorLimits())
        // Both ends of every connection are in this process, plus tcp_max_connections' reserve.
        try #require(original.hard >= 2 * idle + 2_048, "RLIMIT_NOFILE hard limit \(original.hard) too low for this test")
        // A soft limit below what tcp_max_connections = 6000 needs: the start raises it to the hard limit.
        let lowered = max(4_096, openDescriptorCount() + 512)
        try #require(lowered < DescriptorBudget.needed(maxConnections: 6_000))
        #expect(System.setDescriptorSoftLimit(lowered))
        defer { _ = System.setDescriptorSoftLimit(original.soft) }
        let port = try run(callerTransport: "t1", calls: 300, rate: 100, idle: idle,
                           globals: "tcp_max_connections = 6000\n") { _ in
            #expect(System.descriptorLimits()?.soft == original.hard, "soft limit raised to the hard limit at start")
        }
        // The proxy stopped: none of its sockets (listening or connected) holds a descriptor any more.
        #expect(TCPTransportTests.eventually(10) { tcpSockets(localPort: port, listening: true) == 0 },
                "proxy sockets left: \(tcpSockets(localPort: port, listening: true))")
    }
}
