import Foundation
import Glibc
import HTTPDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// Against the real echo server (`TANDEM_TEST_SERVERS=http bash scripts/test.sh --filter HTTPDriverTests`).
@Suite(.enabled(if: httpServerAvailable, "TANDEM_TEST_HTTP_URL not set (start the http test server)"))
struct HTTPRequestOperationTests {
    @Test func getReturnsBodyContentTypeAndCode() throws {
        let h = try Harness()
        let result = try #require(try h.run(get("json")))
        #expect(result.rc == 1)
        #expect(result.output("code")?.intValue == 200)
        #expect(result.output("ctype")?.stringValue == "application/json")
        #expect(json(result)["user"] as? String == "alice")
        #expect(h.multi.activeCount == 0)
    }

    @Test(arguments: [HTTPMethod.post, .put])
    func bodyAndContentTypeAreSent(method: HTTPMethod) throws {
        let h = try Harness()
        let request = HTTPRequest(method: method, url: httpBase! + "echo?x=1", body: #"{"caller":"bob","n":7}"#,
                                  contentType: "application/json", settings: testSettings())
        let result = try #require(try h.run(request))
        #expect(result.rc == 1)
        #expect(result.output("code")?.intValue == 200)
        let echo = json(result)
        #expect(echo["method"] as? String == method.rawValue)
        #expect(echo["body"] as? String == #"{"caller":"bob","n":7}"#)
        let headers = echo["headers"] as? [String: Any] ?? [:]
        #expect(headers["Content-Type"] as? String == "application/json")
        #expect(headers["Expect"] == nil, "no 100-continue round trip")
        #expect((echo["json"] as? [String: Any])?["n"] as? Int == 7)
    }

    @Test func emptyPostBodyIsSent() throws {
        let h = try Harness()
        let request = HTTPRequest(method: .post, url: httpBase! + "echo", body: "", contentType: "text/plain",
                                  settings: testSettings())
        let result = try #require(try h.run(request))
        #expect(result.rc == 1)
        #expect(json(result)["method"] as? String == "POST")
        #expect(json(result)["body"] as? String == "")
    }

    @Test func httpErrorStatusIsStillSuccess() throws {
        let h = try Harness()
        let results = try h.run([get("status/404"), get("status/503")])
        #expect(results.map { $0?.rc } == [1, 1])
        #expect(results.map { $0?.output("code")?.intValue } == [404, 503])
    }

    @Test func transferTimeoutIsMinus3AndCleansUp() throws {
        let h = try Harness()
        let start = System.monotonicNanoseconds()
        let result = try #require(try h.run(get("echo?delay_ms=3000", settings: testSettings(totalMs: 300))))
        let elapsedMs = (System.monotonicNanoseconds() - start) / 1_000_000
        #expect(result.rc == -3)
        #expect(result.status == .completed, "libcurl's own timeout, not the engine's")
        #expect(elapsedMs >= 250 && elapsedMs < 2000)
        #expect(h.multi.activeCount == 0)
        try h.spin(limitMs: 1000) { h.multi.watchedSocketCount == 0 }
        #expect(h.multi.watchedSocketCount == 0, "the timed-out connection was closed")
        // The multi still works afterwards.
        #expect(try h.run(get("health"))?.rc == 1)
    }

    @Test func asyncTimeoutCancelsTheTransfer() throws {
        let h = try Harness()
        let result = try #require(try h.run(get("echo?delay_ms=3000"), timeoutMs: 200))
        #expect(result.rc == -3)
        #expect(result.status == .timedOut)
        #expect(h.multi.activeCount == 0, "cancel() removed the easy handle")
        #expect(h.multi.watchedSocketCount == 0)
        #expect(h.reactor.registrationCount == 0)
        #expect(try h.run(get("health"))?.rc == 1)
    }

    @Test func explicitCancelRemovesTheTransfer() throws {
        let h = try Harness()
        let op = HTTPRequestOperation(request: get("echo?delay_ms=3000"), multi: h.multi)
        let result = Box<AsyncResult?>(nil)
        let id = h.worker.start(op) { result.value = $0 }
        try h.spin(limitMs: 100) { false }  // let it connect and send
        #expect(h.multi.activeCount == 1)
        h.worker.cancel(id)
        try h.spin(limitMs: 1000) { result.value != nil }
        #expect(result.value?.isCancelled == true)
        #expect(h.multi.activeCount == 0)
        #expect(h.reactor.registrationCount == 0)
    }

    @Test func twoHundredConcurrentRequestsReuseConnections() throws {
        var settings = testSettings(totalMs: 15_000)
        settings.maxHostConnections = 8
        let h = try Harness(settings: settings)
        let requests = (0..<200).map { get("echo?i=\($0)", settings: settings) }
        let start = System.monotonicNanoseconds()
        let results = try h.run(requests, limitMs: 20_000)
        let elapsedMs = (System.monotonicNanoseconds() - start) / 1_000_000
        #expect(results.allSatisfy { $0?.rc == 1 && $0?.output("code")?.intValue == 200 })
        for (i, result) in results.enumerated() {
            let query = json(result)["query"] as? [String: Any]
            #expect(query?["i"] as? String == "\(i)", "each answer belongs to its request")
        }
        #expect(h.multi.finishedCount == 200)
        #expect(h.multi.connectionsOpened <= 8, "connections: \(h.multi.connectionsOpened) for 200 requests")
        let openedFirst = h.multi.connectionsOpened
        // A second wave reuses the cached connections.
        let again = try h.run((0..<50).map { get("health?j=\($0)", settings: settings) })
        #expect(again.allSatisfy { $0?.rc == 1 })
        print("second wave opened \(h.multi.connectionsOpened - openedFirst) connections")
        #expect(h.multi.connectionsOpened == openedFirst, "no new connection for the second wave")
        print("200 requests over \(openedFirst) connections in \(elapsedMs) ms")
    }

    /// More connections busy at once than `maxCachedConnections` (64) are all kept for the next requests:
    /// libcurl's cache is at least `maxAsyncTransfers` large, so a transfer ending while 80 are busy does
    /// not close its connection (with a cache of 64, each such end closed one and the next wave reconnected).
    /// The default `http_version` ("2tls") over `http://` sets no `CURLOPT_PIPEWAIT`, so no transfer waits for
    /// another's connection being set up: 80 at once open 80 (79 when one waited). Each request waits 1 s at
    /// the server, so the 80 are all busy at once even on a loaded machine.
    @Test func connectionsBeyondTheCacheSettingAreKept() throws {
        var settings = testSettings(totalMs: 15_000)
        settings.maxHostConnections = 0  // no per-host cap: 80 transfers, 80 connections
        #expect(settings.maxCachedConnections < 80 && settings.maxAsyncTransfers >= 80)
        let h = try Harness(settings: settings)
        let first = try h.run((0..<80).map { get("echo?delay_ms=1000&w=1&i=\($0)", settings: settings) }, limitMs: 20_000)
        #expect(first.allSatisfy { $0?.rc == 1 })
        let openedFirst = h.multi.connectionsOpened
        #expect(openedFirst == 80, "80 transfers at once, one connection each: \(openedFirst)")
        let second = try h.run((0..<80).map { get("echo?delay_ms=1000&w=2&i=\($0)", settings: settings) }, limitMs: 20_000)
        #expect(second.allSatisfy { $0?.rc == 1 })
        #expect(h.multi.connectionsOpened == openedFirst,
                "the second wave reused the first wave's connections: \(h.multi.connectionsOpened - openedFirst) new")
    }

    /// Native transfers take reset easy handles from the multi's spares: nothing of one request (method,
    /// body, headers) carries over to the next on the same handle, and the spares stay bounded by
    /// `max_async_transfers`.
    @Test func reusedEasyHandlesCarryNoOptionsOver() throws {
        var settings = testSettings()
        settings.maxAsyncTransfers = 4
        let h = try Harness(settings: settings)
        let post = HTTPRequest(method: .post, url: httpBase! + "echo", body: "first", contentType: "text/plain",
                               headers: ["X-Only-Once: yes"], settings: settings)
        let first = try #require(try h.run(post))
        #expect(json(first)["method"] as? String == "POST")
        #expect(json(first)["body"] as? String == "first")
        #expect(h.multi.spareEasyHandleCount == 1)
        let after = try #require(try h.run(get("echo?after=post", settings: settings)))
        let echo = json(after)
        #expect(echo["method"] as? String == "GET")
        #expect(echo["body"] as? String == "")
        let headers = echo["headers"] as? [String: Any] ?? [:]
        #expect(headers["Content-Type"] == nil)
        #expect(headers["X-Only-Once"] == nil)
        #expect(h.multi.spareEasyHandleCount == 1, "the POST's handle served the GET")
        let burst = try h.run((0..<12).map { get("echo?i=\($0)", settings: settings) })
        #expect(burst.allSatisfy { $0?.rc == 1 && $0?.output("code")?.intValue == 200 })
        for (i, result) in burst.enumerated() {
            #expect((json(result)["query"] as? [String: Any])?["i"] as? String == "\(i)")
        }
        #expect(h.multi.spareEasyHandleCount <= 4)
        let timedOut = try #require(try h.run(get("echo?delay_ms=3000", settings: testSettings(totalMs: 300))))
        #expect(timedOut.rc == -3, "a transfer timeout on a reused connection, not a connect timeout")
        let fine = try #require(try h.run(get("health", settings: settings)))
        #expect(fine.rc == 1, "a handle reset after a timeout works again")
    }

    /// A slow (frozen) server gets at most `maxHostConnections` connections from a worker, however many
    /// requests are in flight: the others wait inside libcurl and still end at their own timeout.
    @Test func hostConnectionCapBoundsConnectionsToASlowServer() throws {
        var settings = testSettings(totalMs: 10_000)
        settings.maxHostConnections = 4
        let h = try Harness(settings: settings)
        let peak = Box(0)
        let done = Box(0)
        let results = Box<[AsyncResult?]>(Array(repeating: nil, count: 24))
        let started = System.monotonicNanoseconds()
        for i in 0..<24 {
            let op = HTTPRequestOperation(request: get("echo?delay_ms=250&i=\(i)", settings: settings), multi: h.multi)
            h.worker.start(op) { result in
                results.value[i] = result
                done.value += 1
            }
        }
        try h.spin(limitMs: 15_000) {
            peak.value = max(peak.value, h.multi.watchedSocketCount)
            return done.value == 24
        }
        let elapsedMs = (System.monotonicNanoseconds() - started) / 1_000_000
        #expect(results.value.allSatisfy { $0?.rc == 1 })
        #expect(h.multi.connectionsOpened <= 4, "connections opened: \(h.multi.connectionsOpened)")
        #expect(peak.value <= 4, "sockets open at once: \(peak.value)")
        #expect(elapsedMs >= 24 / 4 * 250 - 100, "the requests shared 4 connections: \(elapsedMs) ms")

        // A frozen server: 20 calls with a 300 ms timeout all end at their timeout, over ≤ 4 sockets.
        let frozen = Box<[AsyncResult?]>(Array(repeating: nil, count: 20))
        let frozenDone = Box(0)
        peak.value = 0
        let t0 = System.monotonicNanoseconds()
        for i in 0..<20 {
            let op = HTTPRequestOperation(request: get("echo?delay_ms=5000&f=\(i)", settings: settings), multi: h.multi)
            h.worker.start(op, timeoutMs: 300) { result in
                frozen.value[i] = result
                frozenDone.value += 1
            }
        }
        try h.spin(limitMs: 5000) {
            peak.value = max(peak.value, h.multi.watchedSocketCount)
            return frozenDone.value == 20
        }
        let frozenMs = (System.monotonicNanoseconds() - t0) / 1_000_000
        #expect(frozen.value.allSatisfy { $0?.rc == -3 }, "\(frozen.value.map { $0?.rc ?? 0 })")
        #expect(frozenMs < 1500, "every call ended at its timeout: \(frozenMs) ms")
        #expect(peak.value <= 4, "sockets open at once: \(peak.value)")
        #expect(h.multi.activeCount == 0 && h.multi.pendingCount == 0)
    }

    @Test func maxAsyncTransfersQueuesTheRest() throws {
        var settings = testSettings()
        settings.maxAsyncTransfers = 3
        let h = try Harness(settings: settings)
        let op = (0..<10).map { _ in HTTPRequestOperation(request: get("echo?delay_ms=100"), multi: h.multi) }
        let done = Box(0)
        for o in op { h.worker.start(o) { #expect($0.rc == 1); done.value += 1 } }
        try h.spin(limitMs: 50) { false }
        #expect(h.multi.activeCount == 3)
        #expect(h.multi.pendingCount == 7)
        try h.spin(limitMs: 5000) { done.value == 10 }
        #expect(done.value == 10)
        #expect(h.multi.pendingCount == 0 && h.multi.activeCount == 0)
    }

    @Test func hostNameURLResolvesWithoutBlocking() throws {
        #expect(CurlGlobal.hasAsynchronousDNS, "Debian's libcurl uses the threaded resolver")
        let h = try Harness()
        let url = httpBase!.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let result = try #require(try h.run(HTTPRequest(method: .get, url: url + "health", settings: testSettings())))
        #expect(result.rc == 1)
        #expect(result.output("code")?.intValue == 200)
    }

    @Test func blockingFormInOffloadAndSyncModes() throws {
        let h = try Harness()
        for mode in [AsyncMode.offload, .sync] {
            let result = try #require(try h.run(get("json"), mode: mode))
            #expect(result.rc == 1)
            #expect(json(result)["id"] as? Int == 42)
        }
        #expect(HTTPRequestOperation.perform(get("status/201")).output("code")?.intValue == 201)
        #expect(HTTPRequestOperation.perform(get("health", base: "http://127.0.0.1:\(UInt16(closedPort()))/")).rc == -1)
        // The job timeout caps the blocking transfer.
        let capped = HTTPRequestOperation.perform(get("echo?delay_ms=3000"), timeoutCapMs: 200)
        #expect(capped.rc == -3)
    }

    @Test func oversizeResponseIsMinus1() throws {
        var settings = testSettings()
        settings.maxResponseBytes = 10
        let h = try Harness()
        #expect(try h.run(get("json", settings: settings))?.rc == -1)
    }

    @Test func serverRestartBetweenRequests() throws {
        let server = EchoServer(port: UInt16(closedPort()))
        try server.start()
        defer { server.stop() }
        let h = try Harness()
        #expect(try h.run(get("health", base: server.base))?.rc == 1)
        #expect(h.multi.connectionsOpened == 1)
        server.stop()  // the cached connection is now dead
        try server.start()
        let result = try h.run(get("json", base: server.base))
        #expect(result?.rc == 1)
        #expect(result?.output("code")?.intValue == 200)
        #expect(h.multi.connectionsOpened == 2, "a fresh connection replaced the dead one")
    }
}
