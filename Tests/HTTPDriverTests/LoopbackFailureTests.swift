import Glibc
import HTTPDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// Failures that need no HTTP server (loopback sockets only); always run.
@Suite struct LoopbackFailureTests {
    @Test func refusedPortIsMinus1() throws {
        let h = try Harness()
        let result = try #require(try h.run(get("health", base: "http://127.0.0.1:\(UInt16(closedPort()))/")))
        #expect(result.rc == -1)
        #expect(result.outputs.isEmpty)
        #expect(h.multi.activeCount == 0)
        #expect(h.reactor.registrationCount == 0)
    }

    /// A listener whose accept queue is full drops SYNs, so the connect phase never ends.
    @Test func connectTimeoutIsMinus2() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        #expect(listen(listener, 0) == 0)
        var fillers: [Int32] = []
        defer { for fd in fillers { close(fd) } }
        for _ in 0..<3 {  // fill the accept queue (backlog 0 admits one)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
            fillers.append(fd)
        }
        usleep(50_000)
        let h = try Harness()
        let port = UInt16(bigEndian: address.sin_port)
        let start = System.monotonicNanoseconds()
        let result = try #require(try h.run(get("health", base: "http://127.0.0.1:\(port)/",
                                                settings: testSettings(connectMs: 300, totalMs: 5000))))
        let elapsedMs = (System.monotonicNanoseconds() - start) / 1_000_000
        #expect(result.rc == -2)
        #expect(elapsedMs >= 250 && elapsedMs < 3000)
        #expect(h.multi.activeCount == 0)
        try h.spin(limitMs: 500) { h.reactor.registrationCount == 0 }
        #expect(h.reactor.registrationCount == 0)
    }

    @Test func unsupportedSchemeIsMinus1() throws {
        let h = try Harness()
        let result = try h.run(HTTPRequest(method: .get, url: "ftp://127.0.0.1/x", settings: testSettings()))
        #expect(result?.rc == -1)
    }

    @Test func sharedMultiIsPerReactorAndReleasable() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let a = try #require(CurlMulti.shared(for: reactor))
        #expect(CurlMulti.shared(for: reactor) === a)
        let other = try Reactor()
        defer { other.close() }
        #expect(CurlMulti.shared(for: other) !== a)
        CurlMulti.releaseShared(for: reactor)
        CurlMulti.releaseShared(for: other)
        #expect(CurlMulti.shared(for: reactor) !== a)
        CurlMulti.releaseShared(for: reactor)
    }

    @Test func settingsDefaultsFollowRestClient() {
        let s = HTTPDriverSettings()
        #expect(s.connectTimeoutMs == 20_000 && s.totalTimeoutMs == 20_000)
        #expect(s.verifyPeer && s.verifyHost)
        #expect(s.maxAsyncTransfers == 100)
        let r = HTTPRequest(method: .post, url: "http://127.0.0.1/", body: "x", contentType: "text/plain", settings: s)
        #expect(r.body == [UInt8(ascii: "x")] && r.totalTimeoutMs == 20_000)
    }
}
