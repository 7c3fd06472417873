import Foundation
import Glibc
import Logging
import SIPCore
import TandemServer
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Log lines about a SIP message carry its Call-ID, transaction branch and (for script lines) the
/// route running, over real UDP against the running proxy.
@Suite(.serialized)
struct LoggingTests {
    static let modules = """
        loadmodule "cfgutils.so"
        loadmodule "textops.so"
        """

    @Test("xlog lines have their level, the expanded text and call_id/branch/route metadata in every route kind")
    func xlogMetadata() throws {
        let uas = try SIPTestServer()
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: """
            route {
                xlog("L_WARN", "hello $ci");
                xlog("L_DBG", "not at info");
                t_on_reply("watch");
                t_on_failure("missed");
                t_relay("udp:127.0.0.1:\(uas.port)");
            }
            onreply_route[watch] {
                xlog("L_NOTICE", "reply $rs");
            }
            failure_route[missed] {
                xlog("L_ERR", "failed $T_reply_code");
                async(usleep(1000), after);
            }
            route[after] {
                xlog("resumed");
            }
            """, globals: Self.modules, logger: capture.logger(level: .info))
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-log-1", callID: "log-1"))
        let (request, peer) = try #require(uas.receive(timeout: 2))
        try uas.reply(to: request, from: peer, status: 486, reason: "Busy Here")
        let (final, _) = client.waitFor(timeout: 3) { $0 >= 200 }
        #expect(final?.statusCode == 486)

        let hello = try #require(capture.wait { $0.message.hasPrefix("hello") })
        #expect(hello.level == .warning)
        #expect(hello.message == "hello log-1")
        #expect(hello.metadata["call_id"] == "log-1")
        #expect(hello.metadata["branch"] == "z9hG4bK-log-1")
        #expect(hello.metadata["route"] == "request")
        #expect(hello.metadata["method"] == "INVITE")
        #expect(hello.metadata["cseq"] == "1")

        let reply = try #require(capture.wait { $0.message == "reply 486" })
        #expect(reply.level == .notice)
        #expect(reply.metadata["route"] == "onreply_route[watch]")
        #expect(reply.metadata["call_id"] == "log-1")
        #expect(reply.metadata["branch"] == "z9hG4bK-log-1")

        let failed = try #require(capture.wait { $0.message == "failed 486" })
        #expect(failed.level == .error)
        #expect(failed.metadata["route"] == "failure_route[missed]")
        #expect(failed.metadata["call_id"] == "log-1")
        #expect(failed.metadata["branch"] == "z9hG4bK-log-1")

        let resumed = try #require(capture.wait { $0.message == "resumed" })
        #expect(resumed.level == .error, "xlog without a level logs at L_ERR")
        #expect(resumed.metadata["route"] == "route[after]")
        #expect(resumed.metadata["call_id"] == "log-1")
        #expect(resumed.metadata["branch"] == "z9hG4bK-log-1")

        #expect(!capture.all.contains { $0.message == "not at info" }, "L_DBG must be dropped at info")
    }

    @Test("L_DBG lines appear when the logger's level is debug, whatever log_level says")
    func debugFollowsLoggerLevel() throws {
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: """
            route {
                xlog("L_DBG", "debug $rm");
                sl_send_reply(404, "Not Here");
            }
            """, logger: capture.logger(level: .debug))
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("OPTIONS", branch: "z9hG4bK-log-2", callID: "log-2"))
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 404)
        let line = try #require(capture.wait { $0.message == "debug OPTIONS" })
        #expect(line.level == .debug)
        #expect(line.metadata["call_id"] == "log-2")
    }

    @Test("A malformed request with a usable Call-ID: 400, and a log line with call_id, peer and the reason")
    func malformedRequestLine() throws {
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: "route { sl_send_reply(404, \"Not Here\"); }",
                                      logger: capture.logger(level: .info))
        let client = try SIPTestClient(proxyPort: proxy.port)
        let good = String(decoding: client.request("INVITE", branch: "z9hG4bK-bad-1", callID: "bad-1"), as: UTF8.self)
        let bad = good.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 BYE")
        try client.send(Array(bad.utf8))
        #expect(client.waitFor(timeout: 2) { $0 >= 200 }.match?.statusCode == 400)
        let line = try #require(capture.wait { $0.metadata["call_id"] == "bad-1" })
        #expect(line.message == "rejecting malformed request")
        #expect(line.level == .info)
        #expect(line.metadata["error"] == "CSeq method does not match request method")
        #expect(line.metadata["branch"] == "z9hG4bK-bad-1")
        #expect(line.metadata["peer"] == "127.0.0.1:\(client.port)")
    }

    @Test("An unreachable next hop: the 503 line names the call, the branch and the destination")
    func unreachableLine() throws {
        let capture = LogCapture()
        let deadPort = Ports.free()
        let proxy = try ScriptedProxy(routes: "route { t_relay(\"udp:127.0.0.1:\(deadPort)\"); }",
                                      logger: capture.logger(level: .debug))
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-dead-1", callID: "dead-1"))
        #expect(client.waitFor(timeout: 3) { $0 >= 200 }.match?.statusCode == 503)
        let line = try #require(capture.wait { $0.metadata["status"] == "503" })
        #expect(line.metadata["call_id"] == "dead-1")
        #expect(line.metadata["branch"] == "z9hG4bK-dead-1")
        #expect(line.metadata["destination"] == "127.0.0.1:\(deadPort)")
    }
}
