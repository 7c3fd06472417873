import Glibc
import SIPCore
import Synchronization
import Testing
@testable import TandemProxy

/// `tcp_max_msg_time` times one message, not a busy connection: a peer whose writes keep ending in the
/// middle of the next request (back-to-back messages, as SIPp `-t t1` sends at high rates) always has a
/// partial message buffered, yet completes one after another and must not be closed as a staller.
/// Found by `Perf/tcpload.py`: a `-t t1` connection at 1,500 calls/s was closed after 4 s.
@Suite(.serialized)
struct TCPBusyStreamTests {
    @Test("a connection that keeps completing messages, each write ending mid-message, outlives tcp_max_msg_time")
    func busyConnectionStaysOpen() throws {
        let proxy = try ScriptedProxy(routes: TCPTransportTests.answerRoutes,
                                      globals: TCPTransportTests.textops + "tcp_max_msg_time = 1", tcp: true)
        let peer = try TCPTestPeer(connectingTo: proxy.port)
        // 25 writes 100 ms apart (2.5 s, over twice the limit), each ending halfway through a request.
        let count = 25
        var rest: [UInt8] = []
        for i in 0..<count {
            let request = Array(tcpRequest("OPTIONS", port: peer.localPort, branch: "z9hG4bK-busy-\(i)",
                                           callID: "busy-\(i)").utf8)
            let half = request.count / 2
            peer.send(rest + request[..<half])
            rest = Array(request[half...])
            usleep(100_000)
        }
        peer.send(rest)
        for i in 0..<count {
            #expect(peer.receive(timeout: 5)?.callID == "busy-\(i)")
        }
        #expect(!peer.waitForClose(timeout: 0), "the busy connection is still open")
        #expect(proxy.core.streams.counters.messageTimeouts.load(ordering: .relaxed) == 0)
    }
}
