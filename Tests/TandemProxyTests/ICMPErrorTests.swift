import Foundation
import Glibc
import Reactor
import Synchronization
import Testing
@testable import TandemProxy
import TandemTestSupport

/// ICMP errors on the shared socket (issue 14 item 3): an error for one destination never fails a
/// send to another; each error fails only the silent branches of its own destination.
@Suite(.serialized, .exclusiveLoad, .enabled(if: SIPp.isAvailable, "sipp not installed"))
struct ICMPErrorTests {
    @Test("1,000 INVITEs at 200/s to a closed port beside 300 SIPp calls: 0 failed calls, 503 for the closed port")
    func closedPortBesideHealthyPeer() throws {
        let proxy = try ProxyHarness()
        let closed = try UDPSocket(bindingTo: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let closedPort = try closed.localAddress().port
        closed.close()   // nothing listens: every datagram to it draws an ICMP port unreachable
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "300"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: 300, rate: 50)
        let flood = try InviteFlood(proxyPort: proxy.port, uri: { _ in "sip:bob@127.0.0.1:\(closedPort)" },
                                    count: 1000, rate: 200)
        defer { flood.stop() }
        let client = uac.wait(seconds: 60)
        let server = uas.wait(seconds: 10)
        #expect(client.successful == 300, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0)
        // Every flood INVITE ended at once with 503 (or, if an ICMP error got lost, with 408 later).
        let deadline = Date().addingTimeInterval(5)
        let counters = proxy.core.counters
        while Date() < deadline, counters.repliesSentByCode.value(at: 503 - 100) < 1000 { usleep(50_000) }
        let served503 = counters.repliesSentByCode.value(at: 503 - 100)
        #expect(served503 >= 990, "503s: \(served503), ICMP errors read: \(counters.icmpErrors.load(ordering: .relaxed))")
        #expect(counters.sendErrors.load(ordering: .relaxed) == 0, "no send failed for another destination's error")
        #expect(counters.icmpErrors.load(ordering: .relaxed) >= 990)
        #expect(proxy.core.silentBranches.lookup(SocketAddress(ip: "127.0.0.1", port: closedPort)!) == nil)
    }
}
