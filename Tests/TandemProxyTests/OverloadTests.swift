import Foundation
import Glibc
import Reactor
import SIPCore
import SIPTransaction
import Synchronization
import Testing
@testable import TandemProxy

/// Overload control (issue 14 item 4): past the bounds new INVITEs get a stateless 503 with
/// Retry-After, counted; everything else goes on, and the proxy takes INVITEs again once below.
@Suite(.serialized)
struct OverloadTests {
    @Test("Past max_transactions new INVITEs get 503 with Retry-After; OPTIONS and in-dialog requests go on")
    func transactionBound() throws {
        let proxy = try ProxyHarness(router: ProbeAnsweringRouter(), timers: TimerSettings(t1: 50, t2: 400),
                                     maxTransactions: 50)
        let silent = try SIPTestServer()   // reads and never answers
        let client = try SIPTestClient(proxyPort: proxy.port)
        for i in 0..<120 {
            try client.send(client.request("INVITE", uri: "sip:bob@127.0.0.1:\(silent.port)", branch: "z9hG4bK-ov-\(i)",
                                           callID: "ov-\(i)"))
            usleep(1_000)
        }
        var refused = 0, trying = 0, retryAfter: Set<String> = []
        while let reply = client.receive(timeout: 0.5) {
            switch reply.statusCode {
            case 100: trying += 1
            case 503:
                refused += 1
                if let value = reply.header(.retryAfter) { retryAfter.insert(value) }
            default: break
            }
        }
        #expect(trying == 50)
        #expect(refused == 70)
        #expect(retryAfter == ["5"])
        #expect(proxy.core.counters.overloadRejected.load(ordering: .relaxed) == 70)
        #expect(proxy.core.counters.refusedByReasonSnapshot()["overload"] == 70)
        var relayed = Set<String>()
        while let (request, _) = silent.receive(timeout: 0.2) { relayed.insert(request.callID ?? "") }
        #expect(relayed.count == 50)

        // Still served meanwhile: OPTIONS to the proxy, and an in-dialog INVITE (a re-INVITE).
        try client.send(client.request("OPTIONS", uri: "sip:127.0.0.1:\(proxy.port)", branch: "z9hG4bK-ov-opt",
                                       callID: "ov-opt"))
        #expect(client.waitFor(timeout: 2) { $0 == 200 }.match != nil)
        try client.send(client.request("INVITE", uri: "sip:bob@127.0.0.1:\(silent.port)", branch: "z9hG4bK-ov-re",
                                       callID: "ov-re", extraHeaders: "Route: <sip:127.0.0.1:\(silent.port);lr>\r\n")
            .replacingTo(tag: "t9"))
        #expect(client.waitFor(timeout: 2) { $0 == 100 || $0 == 503 }.match?.statusCode == 100)

        // Once Timer B ended them (3.2 s), INVITEs are taken again.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, proxy.core.counters.awaitingFinalNow.load(ordering: .relaxed) > 0 { usleep(50_000) }
        // (A new client: the first one's buffer holds the 408 retransmissions of the INVITEs it never ACKed.)
        let later = try SIPTestClient(proxyPort: proxy.port)
        try later.send(later.request("INVITE", uri: "sip:bob@127.0.0.1:\(silent.port)", branch: "z9hG4bK-ov-after",
                                     callID: "ov-after"))
        #expect(later.waitFor(timeout: 2) { $0 == 100 || $0 == 503 }.match?.statusCode == 100)
    }

    @Test("Past modparam max_suspended new INVITEs get 503; the suspended ones complete")
    func suspendedBound() throws {
        let uas = try SIPTestServer()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(usleep(1500000), relay);
            }
            route[relay] {
                t_relay();
            }
            """, globals: """
            loadmodule "cfgutils.so"
            modparam("tandem", "max_suspended", 10)
            modparam("tandem", "overload_retry_after", 7)
            """)
        #expect(proxy.core.settings.maxSuspended == 10)
        let client = try SIPTestClient(proxyPort: proxy.port)
        for i in 0..<25 {
            try client.send(client.request("INVITE", uri: "sip:bob@127.0.0.1:\(uas.port)", branch: "z9hG4bK-sus-\(i)",
                                           callID: "sus-\(i)"))
            usleep(2_000)
        }
        var refused = 0
        while let reply = client.receive(timeout: 0.3) {
            if reply.statusCode == 503 {
                refused += 1
                #expect(reply.header(.retryAfter) == "7")
            }
        }
        #expect(refused == 15)
        var relayed = Set<String>()
        while let (request, _) = uas.receive(timeout: 2) { relayed.insert(request.callID ?? "") }
        #expect(relayed.count == 10)
        #expect(proxy.core.counters.overloadRejected.load(ordering: .relaxed) == 15)
    }

    @Test("LogRateLimiter lets one line through per interval")
    func rateLimiter() {
        let limiter = LogRateLimiter(seconds: 10)
        let second: UInt64 = 1_000_000_000
        #expect(limiter.shouldLog(now: 100 * second))
        #expect(!limiter.shouldLog(now: 100 * second))
        #expect(!limiter.shouldLog(now: 109 * second))
        #expect(limiter.shouldLog(now: 110 * second))
        #expect(!limiter.shouldLog(now: 111 * second))
    }
}
