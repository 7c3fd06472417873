import Foundation
import Glibc
import Logging
import Reactor
import SIPCore
import TandemAsync
import Synchronization
import Testing
@testable import TandemServer
@testable import TandemProxy
import TandemTestSupport

/// A backend's loss and recovery are logged once for the process and counted (issue 14 item 6).
@Suite(.serialized)
struct BackendOutageTests {
    @Test("exec that hangs past its timeout, then runs again: one 'backend lost' and one 'backend recovered' line")
    func execLossAndRecovery() throws {
        let uas = try SIPTestServer()
        let capture = LogCapture()
        let proxy = try ScriptedProxy(routes: """
            route {
                if ($hdr(X-Hang) == "yes") {
                    async(exec("sleep 3"), done, 0.2);
                } else {
                    async(exec("sleep 0"), done, 2);
                }
            }
            route[done] {
                if ($rc == -3) { t_reply(504, "Backend Timeout"); exit; }
                t_relay();
            }
            """, globals: #"loadmodule "exec.so""#, logger: capture.logger(level: .notice))
        let client = try SIPTestClient(proxyPort: proxy.port)
        for i in 0..<3 {   // three workers' worth of failures: still one loss
            try client.send(client.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(uas.port)", branch: "z9hG4bK-hang-\(i)",
                                           callID: "hang-\(i)", extraHeaders: "X-Hang: yes\r\n"))
            #expect(client.waitFor(timeout: 3) { $0 == 504 }.match != nil)
        }
        try client.send(client.request("OPTIONS", uri: "sip:bob@127.0.0.1:\(uas.port)", branch: "z9hG4bK-ok-1",
                                       callID: "ok-1"))
        let (request, peer) = try #require(uas.receive(timeout: 3))
        try uas.reply(to: request, from: peer, status: 200)
        #expect(client.waitFor(timeout: 3) { $0 == 200 }.match != nil)

        let health = proxy.server.engine.backends.health(driver: "exec", address: "sleep")
        #expect(health.lossCount == 1)
        #expect(health.recoveryCount == 1)
        #expect(!health.isDown)
        _ = capture.wait { $0.message == "backend recovered" }
        let lines = capture.all.filter { $0.message.hasPrefix("backend ") }
        #expect(lines.map(\.message) == ["backend lost", "backend recovered"], "\(lines)")
        #expect(lines.first?.metadata["backend"] == "sleep")
        #expect(lines.first?.metadata["driver"] == "exec")
    }

    @Test("An HTTP server that refuses: one loss for its origin, whatever the path")
    func httpLoss() throws {
        let closed = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                async(rest_get("http://user:pw@127.0.0.1:\(closed)/path?$ci", $var(body)), done, 2);
            }
            route[done] { t_reply(503, "HTTP down"); }
            """, globals: #"loadmodule "rest_client.so""#)
        let client = try SIPTestClient(proxyPort: proxy.port)
        for i in 0..<2 {
            try client.send(client.request("OPTIONS", uri: "sip:bob@127.0.0.1:9", branch: "z9hG4bK-http-\(i)",
                                           callID: "http-\(i)"))
            #expect(client.waitFor(timeout: 3) { $0 == 503 }.match != nil)
        }
        let backends = proxy.server.engine.backends.all
        #expect(backends.map(\.address) == ["http://127.0.0.1:\(closed)"])
        #expect(backends.first?.lossCount == 1)
        #expect(backends.first?.isDown == true)
        #expect(BackendObservation.httpOrigin("https://a:b@host:8443/x?y") == "https://host:8443")
    }

    /// A worker's cache of HTTP origins finds the entry httpOrigin names, whatever the path or query.
    @Test func httpOriginCacheMatchesHTTPOrigin() {
        let registry = BackendHealthRegistry()
        let cache = HTTPOriginHealthCache()
        let urls = ["http://127.0.0.1:8080/route", "http://127.0.0.1:8080?x=1", "http://127.0.0.1:8080",
                    "https://a:b@host:8443/x?y", "http://h\u{e9}te/x", "http://127.0.0.1:8080#f", "ftp://x/y",
                    "http://127.0.0.1:8081/route", "no-scheme", "http:///path", "http:/x", "x:", "://host/p"]
        for url in urls + urls {
            let expected = BackendObservation.httpOrigin(url).map { registry.health(driver: "http", address: $0) }
            #expect(cache.health(forURL: url, registry: registry) === expected, "\(url)")
        }
        for index in 0..<(HTTPOriginHealthCache.capacity + 4) {
            let url = "http://10.0.0.\(index):80/p"
            #expect(cache.health(forURL: url, registry: registry) === registry.health(driver: "http", address: "http://10.0.0.\(index):80"))
        }
        #expect(cache.health(forURL: "http://10.0.0.0:80/q", registry: registry)?.address == "http://10.0.0.0:80")
    }
}
