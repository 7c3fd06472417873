import Foundation
import Glibc
import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
import Testing
@testable import TandemProxy

/// TCP connection bookkeeping: one pooled connection per next hop when two workers connect at once,
/// `force_send_socket` with a bare socket literal, `force_tcp_alias()`, and the descriptor budget the
/// start checks against `RLIMIT_NOFILE`.
@Suite(.serialized)
struct TCPConnectionTests {
    @Test("connect race: requests of two workers for one TCP next hop at the same moment share one connection")
    func oneConnectionUnderConnectRace() throws {
        // 32 next hops; each gets one request from each of 8 callers, sent back to back, so that both
        // workers (per_worker UDP sockets: the kernel spreads callers by source port) start relaying to
        // a next hop with no connection yet at about the same moment.
        let hops = try (0..<32).map { _ in try TCPTestListener() }
        let proxy = try ScriptedProxy(routes: """
            route {
                $du = $ru + ";transport=tcp";
                t_relay();
            }
            """, globals: "modparam(\"tandem\", \"udp_sockets\", \"per_worker\")\n", workers: 2, tcp: true)
        let callers = try (0..<8).map { _ in try SIPTestClient(proxyPort: proxy.port) }
        for (h, hop) in hops.enumerated() {
            let requests = callers.indices.map { c in
                callers[c].request("OPTIONS", uri: "sip:bob@127.0.0.1:\(hop.port)", branch: "z9hG4bK-race-\(h)-\(c)",
                                   callID: "race-\(h)-\(c)")
            }
            for (caller, request) in zip(callers, requests) { try caller.send(request) }
        }
        #expect(TCPTransportTests.eventually(10) {
            proxy.core.streams.connectionCount >= hops.count
                && proxy.core.counters.requestsReceived.load(ordering: .relaxed) >= hops.count * callers.count
        })
        usleep(200_000)
        #expect(proxy.core.streams.counters.connected.load(ordering: .relaxed) == hops.count,
                "one connection per next hop")
        #expect(proxy.core.streams.connectionCount == hops.count)
        // Every request of a next hop came on its one connection.
        let first = try #require(hops[0].accept(timeout: 5))
        var received = Set<String>()
        while received.count < callers.count, let message = first.receive(timeout: 5) { received.insert(message.callID ?? "") }
        #expect(received.count == callers.count)
        #expect(hops[0].accept(timeout: 0.2) == nil, "no second connection to the same next hop")
    }

    @Test("StreamHub: the first worker to send to a peer claims it; the others hand it their messages")
    func hubClaims() {
        let hub = StreamHub(settings: StreamSettings())
        let peer = SocketAddress(ip: "127.0.0.1", port: 5099)!
        #expect(hub.sender(for: peer, worker: 0) == 0, "no connection: worker 0 opens it")
        #expect(hub.sender(for: peer, worker: 1) == 0, "worker 0 is opening: worker 1 hands over")
        let entry = StreamHub.Entry(id: 7, worker: 0, remote: peer, socketIndex: 1, transport: .tcp, outgoing: true)
        hub.insert(entry)
        #expect(hub.sender(for: peer, worker: 1) == 0, "the owner of the open connection")
        #expect(hub.sender(for: peer, transport: .tls, worker: 1) == 1, "another transport is another peer")
        hub.remove(entry)
        #expect(hub.sender(for: peer, worker: 1) == 1, "the claim ended with the insert; now worker 1 opens")
        hub.releaseClaim(peer)
        #expect(hub.sender(for: peer, worker: 0) == 0, "a released claim (the connect did not start) is free again")
        hub.detach(index: 0)
        #expect(hub.sender(for: peer, worker: 1) == 1, "a stopped worker's claims go with it")
    }

    @Test("force_send_socket(tcp:IP:PORT) with a bare socket literal, as OpenSIPS writes it")
    func forceSendSocketBareLiteral() throws {
        let callee = try TCPTestListener()
        let port = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                if (!force_send_socket(tcp:127.0.0.1:\(port))) { sl_send_reply(500, "No Socket"); exit; }
                t_relay("udp:127.0.0.1:\(callee.port)");
            }
            """, globals: "socket = tcp:127.0.0.1:\(port)\n")
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(callee.port)", branch: "z9hG4bK-fssb",
                                       callID: "force-socket-bare"))
        let connection = try #require(callee.accept(timeout: 5))
        let request = try #require(connection.receive(timeout: 5))
        let via = try request.topVia()
        #expect(via.transport.uppercased() == "TCP")
        #expect(via.port == port)
        connection.send(SIPMessage.makeResponse(to: request, status: 200, reason: nil, toTag: "fssb"))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 200)
    }

    @Test("a bare socket literal that is not ours makes force_send_socket() false")
    func forceSendSocketUnknown() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if (force_send_socket(tcp:127.0.0.9:5999)) { sl_send_reply(200, "Forced"); exit; }
                sl_send_reply(404, "Not Ours");
            }
            """, tcp: true)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        try caller.send(caller.request("OPTIONS", branch: "z9hG4bK-fssn", callID: "force-socket-none"))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 404)
    }

    @Test("force_tcp_alias(): requests toward the source IP and Via port reuse the connection (no tcp_accept_aliases)")
    func forceTCPAlias() throws {
        let viaPort = Ports.free()
        let otherPort = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                if ($rU == "alias") {
                    if (force_tcp_alias()) { sl_send_reply(200, "Aliased"); } else { sl_send_reply(488, "Not Stream"); }
                    exit;
                }
                if ($rU == "aliasport") { force_tcp_alias(\(otherPort)); sl_send_reply(200, "Aliased"); exit; }
                t_relay();
            }
            """, tcp: true)
        let neighbour = try TCPTestPeer(connectingTo: proxy.port)
        neighbour.send(tcpRequest("OPTIONS", uri: "sip:alias@127.0.0.1", port: viaPort, branch: "z9hG4bK-fta",
                                  callID: "fta-1"))
        #expect(neighbour.receive(timeout: 5)?.statusCode == 200)
        neighbour.send(tcpRequest("OPTIONS", uri: "sip:aliasport@127.0.0.1", port: viaPort, branch: "z9hG4bK-ftb",
                                  callID: "fta-2"))
        #expect(neighbour.receive(timeout: 5)?.statusCode == 200)
        let caller = try SIPTestClient(proxyPort: proxy.port)
        for (index, port) in [viaPort, otherPort].enumerated() {
            try caller.send(caller.request("MESSAGE", uri: "sip:bob@127.0.0.1:\(port);transport=tcp",
                                           branch: "z9hG4bK-to-fta-\(index)", callID: "to-fta-\(index)"))
            let forwarded = try #require(neighbour.receive(timeout: 5), "the request reuses the aliased connection")
            #expect(forwarded.callID == "to-fta-\(index)")
        }
        #expect(proxy.core.streams.counters.connected.load(ordering: .relaxed) == 0)
        // Over UDP there is no connection to alias.
        try caller.send(caller.request("OPTIONS", uri: "sip:alias@127.0.0.1", branch: "z9hG4bK-fta-udp", callID: "fta-udp"))
        #expect(caller.waitFor(timeout: 5) { $0 >= 200 }.match?.statusCode == 488)
    }

    @Test("descriptor budget: enough, raise the soft limit to the hard one, or a clear error naming both counts")
    func descriptorBudget() {
        let needed = DescriptorBudget.needed(maxConnections: 5_000)
        #expect(needed == 6_024)
        #expect(DescriptorBudget.plan(soft: 65_536, hard: 65_536, needed: needed) == .enough)
        #expect(DescriptorBudget.plan(soft: 1_024, hard: 524_288, needed: needed) == .raise(from: 1_024, to: 524_288))
        #expect(DescriptorBudget.plan(soft: 1_024, hard: 4_096, needed: needed) == .insufficient(hard: 4_096))
        let text = DescriptorBudget.message(limit: 4_096, needed: needed, maxConnections: 5_000)
        #expect(text.contains("RLIMIT_NOFILE") && text.contains("4096") && text.contains("6024")
                && text.contains("tcp_max_connections = 5000"))
    }

    @Test("tcp_max_connections above the hard RLIMIT_NOFILE: the start fails with the limit and the count in the error")
    func descriptorLimitTooLow() throws {
        let hard = try #require(System.descriptorLimits()).hard
        // tcp_max_connections takes at most 1,000,000: a higher hard limit cannot be exceeded by the script.
        guard hard < 1_000_000 else { return }
        let wanted = hard  // needs hard + 1024 descriptors
        let error = #expect(throws: (any Error).self) {
            _ = try ScriptedProxy(routes: "route { sl_send_reply(200, \"OK\"); }",
                                  globals: "tcp_max_connections = \(wanted)\n", tcp: true)
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("RLIMIT_NOFILE") && text.contains("\(hard)") && text.contains("\(wanted + 1_024)"), "\(text)")
    }
}
