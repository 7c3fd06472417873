import HTTPDriver
import TandemAsync
import TandemTestSupport
import Testing

/// HTTP/2 multiplexing and connection reuse against nginx (`TANDEM_TEST_SERVERS=nginx bash scripts/test.sh
/// --filter HTTP2MultiplexTests`): HTTP/2 over TLS (ALPN, self-signed certificate: verification off), h2c with
/// prior knowledge, and HTTP/1.1 keep-alive. Counts only (connections opened, answers), no timings.
@Suite(.enabled(if: TestEnvironment.nginxTLSURL != nil, "TANDEM_TEST_NGINX_TLS_URL not set (start the nginx test server)"))
struct HTTP2MultiplexTests {
    static let burst = 40

    func settings(_ version: HTTPVersion, hostConnections: Int = 64, streams: Int = 100) -> HTTPDriverSettings {
        var s = testSettings()
        s.httpVersion = version
        s.maxHostConnections = hostConnections
        s.maxConcurrentStreams = streams
        s.verifyPeer = false  // nginx.sh's throw-away self-signed certificate
        s.verifyHost = false
        return s
    }

    @Test func http2OverTLSMultiplexesABurstOnOneConnection() throws {
        let s = settings(.http2TLS)
        let h = try Harness(settings: s)
        let base = try #require(TestEnvironment.nginxTLSURL)
        let results = try h.run((0..<Self.burst).map { get("route/\($0)", base: base, settings: s) })
        #expect(results.allSatisfy { $0?.rc == 1 && $0?.output("code")?.intValue == 200 })
        #expect(json(results[7])["path"] as? String == "/route/7")
        // Every transfer waited for the first connection (PIPEWAIT) and ran as one of its streams.
        #expect(h.multi.connectionsOpened == 1)
        // A second burst reuses it.
        let again = try h.run((0..<Self.burst).map { get("again/\($0)", base: base, settings: s) })
        #expect(again.allSatisfy { $0?.rc == 1 })
        #expect(h.multi.connectionsOpened == 1)
    }

    @Test func streamLimitOpensAnotherConnection() throws {
        // 40 transfers, at most 16 streams per connection: libcurl opens more connections (within the cap).
        // Each answer takes 1 s (nginx's /sleep), so the 40 are in flight together whatever the machine's load
        // (instant answers let a slow client finish its first streams before the last start: one connection).
        let s = settings(.http2TLS, hostConnections: 8, streams: 16)
        let h = try Harness(settings: s)
        let base = try #require(TestEnvironment.nginxTLSURL)
        let results = try h.run((0..<Self.burst).map { get("sleep?s=1&n=\($0)", base: base, settings: s) })
        #expect(results.allSatisfy { $0?.rc == 1 })
        #expect(h.multi.connectionsOpened >= 2)
        #expect(h.multi.connectionsOpened <= 8)
    }

    @Test func http11OverTLSOpensAtMostTheHostCap() throws {
        // The same server and burst with HTTP/1.1: one transfer per connection, at most 4 connections.
        let s = settings(.http1_1, hostConnections: 4)
        let h = try Harness(settings: s)
        let base = try #require(TestEnvironment.nginxTLSURL)
        let results = try h.run((0..<Self.burst).map { get("h1/\($0)", base: base, settings: s) })
        #expect(results.allSatisfy { $0?.rc == 1 && $0?.output("code")?.intValue == 200 })
        #expect(h.multi.connectionsOpened >= 1)
        #expect(h.multi.connectionsOpened <= 4)
    }

    @Test func defaultVersionSpeaksHTTP11InClearText() throws {
        // "2tls" (the default) asks for HTTP/2 only over TLS: against nginx's HTTP/1.1 port it works as before.
        let s = settings(.http2TLS)
        let h = try Harness(settings: s)
        let base = try #require(TestEnvironment.nginxURL)
        let results = try h.run((0..<8).map { get("d/\($0)", base: base, settings: s) })
        #expect(results.allSatisfy { $0?.rc == 1 && $0?.output("code")?.intValue == 200 })
    }

    @Test func h2cPriorKnowledgeAnswersOneRequest() throws {
        // h2c from the first byte; one request (libcurl < 8.0 cannot reuse an h2c connection: see below).
        let s = settings(.http2PriorKnowledge)
        let h = try Harness(settings: s)
        let base = try #require(TestEnvironment.nginxH2URL)
        let result = try #require(try h.run(get("h2c", base: base, settings: s)))
        #expect(result.rc == 1)
        #expect(json(result)["path"] as? String == "/h2c")
    }

    @Test(.enabled(if: CurlGlobal.h2cReuseWorks, "libcurl < 8.0.0 breaks reused h2c connections (curl issue 10634)"))
    func h2cMultiplexesABurst() throws {
        let s = settings(.http2PriorKnowledge)
        let h = try Harness(settings: s)
        let base = try #require(TestEnvironment.nginxH2URL)
        let results = try h.run((0..<Self.burst).map { get("c/\($0)", base: base, settings: s) })
        #expect(results.allSatisfy { $0?.rc == 1 })
        #expect(h.multi.connectionsOpened == 1)
    }

    @Test func fullPendingQueueRejectsWithAReason() throws {
        // One transfer slot, one queue place: of three requests started at once the third is refused (-4).
        var s = settings(.http2TLS)
        s.maxAsyncTransfers = 1
        s.maxPendingTransfers = 1
        let h = try Harness(settings: s)
        let base = try #require(TestEnvironment.nginxTLSURL)
        let results = try h.run((0..<3).map { get("q/\($0)", base: base, settings: s) })
        #expect(results.map { $0?.rc } == [1, 1, -4])
        #expect(results[2]?.output("error")?.stringValue == "http pending queue is full")
    }
}
