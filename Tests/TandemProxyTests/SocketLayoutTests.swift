import Foundation
import Glibc
import SIPCore
import Synchronization
import Testing
@testable import TandemProxy

/// How the UDP workers share a listen address (`modparam("tandem", "udp_sockets", …)`), seen from one
/// peer: a worker blocked in a synchronous call (exec outside async) holds up that peer's next request
/// only when each worker has its own socket.
@Suite(.serialized)
struct SocketLayoutTests {
    /// A main route that blocks its worker in a synchronous exec until `release` exists for the user
    /// part "block", and answers 200 to everything.
    static func routes(release: String) -> String {
        """
        route {
            if ($rU == "block") {
                exec("while [ ! -e '\(release)' ]; do sleep 0.02; done");
            }
            sl_send_reply(200, "OK");
        }
        """
    }

    static func globals(_ layout: String?) -> String {
        var lines = "loadmodule \"exec.so\"\n"
        if let layout { lines += "modparam(\"tandem\", \"udp_sockets\", \"\(layout)\")\n" }
        return lines
    }

    /// A fresh path for the release file; the caller creates it to unblock the worker.
    static func releasePath() -> String {
        "\(NSTemporaryDirectory())tandem-release-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test("shared (default): another worker answers the same peer while one is blocked")
    func sharedSocketServesPeerOnAnyWorker() throws {
        let release = Self.releasePath()
        defer { unlink(release) }
        let proxy = try ScriptedProxy(routes: Self.routes(release: release), globals: Self.globals(nil), workers: 2)
        #expect(proxy.core.settings.socketLayout == .shared)
        defer { _ = FileManager.default.createFile(atPath: release, contents: nil) }
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", uri: "sip:block@127.0.0.1", branch: "z9hG4bK-shared-1", callID: "shared-block"))
        try client.send(client.request("OPTIONS", uri: "sip:free@127.0.0.1", branch: "z9hG4bK-shared-2", callID: "shared-free"))
        let first = try #require(client.receive(timeout: 5), "the second request is answered while the first blocks")
        #expect(first.callID == "shared-free")
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        let second = try #require(client.receive(timeout: 5))
        #expect(second.callID == "shared-block")
        #expect(second.statusCode == 200)
    }

    @Test("per_worker: a peer stays on one worker, so its next request waits for the blocked one")
    func perWorkerSocketPinsPeer() throws {
        let release = Self.releasePath()
        defer { unlink(release) }
        let proxy = try ScriptedProxy(routes: Self.routes(release: release), globals: Self.globals("per_worker"), workers: 2)
        #expect(proxy.core.settings.socketLayout == .perWorker)
        defer { _ = FileManager.default.createFile(atPath: release, contents: nil) }
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", uri: "sip:block@127.0.0.1", branch: "z9hG4bK-pinned-1", callID: "pinned-block"))
        try client.send(client.request("OPTIONS", uri: "sip:free@127.0.0.1", branch: "z9hG4bK-pinned-2", callID: "pinned-free"))
        #expect(client.receive(timeout: 0.5) == nil, "both requests wait on the blocked worker")
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        let first = try #require(client.receive(timeout: 5))
        let second = try #require(client.receive(timeout: 5))
        #expect([first.callID, second.callID] == ["pinned-block", "pinned-free"])
    }

    @Test("shared: a relayed call's replies and retransmissions are matched whichever worker reads them")
    func sharedSocketRelaysCalls() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                t_relay("udp:127.0.0.1:\(uas.port)");
            }
            """, workers: 4)
        let client = try SIPTestClient(proxyPort: proxy.port)
        for index in 0..<20 {
            let branch = "z9hG4bK-shared-call-\(index)", callID = "shared-call-\(index)"
            let invite = client.request("INVITE", branch: branch, callID: callID)
            try client.send(invite)
            try client.send(invite)  // a retransmission, possibly read by another worker
            let (request, peer) = try #require(uas.receive(timeout: 2))
            // Replies a moment apart (two workers may take two back-to-back datagrams of one peer in
            // either order, as in any multi-process proxy; a 1xx after the final is then dropped).
            try uas.reply(to: request, from: peer, status: 180)
            let (ringing, _) = client.waitFor(timeout: 2) { $0 == 180 }
            #expect(ringing?.callID == callID)
            try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
            let (final, _) = client.waitFor(timeout: 2) { $0 >= 200 }
            #expect(final?.statusCode == 486)
            #expect(final?.callID == callID)
            try client.send(client.request("ACK", branch: branch, callID: callID))
            // The next hop sees the ACK for the 486, never a second INVITE.
            var methods: [String] = []
            while let (message, _) = uas.receive(timeout: 0.1) { methods.append(message.method?.description ?? "?") }
            #expect(!methods.contains("INVITE"), "call \(index): \(methods)")
        }
        // Each call: the INVITE's retransmission and the ACK for the 486 were absorbed.
        #expect(proxy.core.counters.retransmissionsAbsorbed.load(ordering: .relaxed) == 40)
    }

    @Test("a bad udp_sockets value is a configuration error naming the choices")
    func badLayoutIsRejected() throws {
        let error = #expect(throws: ScriptedProxy.ScriptError.self) {
            _ = try ScriptedProxy(routes: "route { sl_send_reply(200, \"OK\"); }", globals: Self.globals("spread"))
        }
        #expect(error?.description.contains("udp_sockets") == true)
        #expect(error?.description.contains("per_worker") == true)
    }
}
