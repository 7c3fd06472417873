import Foundation
import Glibc
import Reactor
import Synchronization
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Garbage on the SIP port must cost nothing but a counter increment.
@Suite(.serialized, .exclusiveLoad, .enabled(if: SIPp.isAvailable, "sipp not installed"))
struct BadInputTests {
    /// Datagrams that are not SIP, or not whole SIP, or too big.
    static func junk(_ i: Int, maxSize: Int) -> [UInt8] {
        let invite = Array("""
            INVITE sip:bob@127.0.0.1 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKjunk\(i)\r
            From: <sip:a@b>;tag=1\r
            To: <sip:bob@127.0.0.1>\r
            Call-ID: junk-\(i)\r
            CSeq: 1 INVITE\r
            Content-Length: 500\r
            \r
            v=0\r

            """.utf8)
        switch i % 4 {
        case 0: return (0..<(1 + i % 700)).map { _ in UInt8.random(in: 0...255) }   // random bytes
        case 1: return Array(invite.prefix(10 + i % 60))                            // truncated start
        case 2: return invite                                                      // body shorter than Content-Length
        default: return [UInt8](repeating: UInt8(ascii: "A"), count: maxSize + 100) // oversize
        }
    }

    @Test("Garbage, truncated and oversize datagrams during a call load: 0 failed calls, each one counted")
    func garbageDuringLoad() throws {
        let maxSize = 4096
        let proxy = try ProxyHarness(maxDatagramSize: maxSize)
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "1000"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: 1000, rate: 150)
        let sender = try UDPSocket(bindingTo: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let target = SocketAddress(ip: "127.0.0.1", port: proxy.port)!
        let junkCount = 400
        for i in 0..<junkCount {
            _ = try sender.send(Self.junk(i, maxSize: maxSize), to: target)
            usleep(5_000)
        }
        let client = uac.wait(seconds: 60)
        let server = uas.wait(seconds: 30)
        #expect(client.successful == 1000, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0)
        #expect(proxy.core.counters.parseErrors.load(ordering: .relaxed) == junkCount)
    }
}
