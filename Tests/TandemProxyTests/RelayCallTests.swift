import Foundation
import Glibc
import Synchronization
import Testing
@testable import TandemProxy

/// Calls through the proxy with SIPp on both sides: what a SIP operator relies on first.
@Suite(.serialized, .enabled(if: SIPp.isAvailable, "sipp not installed"))
struct RelayCallTests {
    @Test("5,000 record-routed calls (INVITE/180/200/ACK/BYE/200) with 0 failed")
    func basicCalls() throws {
        let proxy = try ProxyHarness()
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "5000"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: 5000, rate: 500)
        let client = uac.wait(seconds: 90)
        let server = uas.wait(seconds: 10)
        #expect(client.successful == 5000, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        #expect(proxy.core.counters.parseErrors.load(ordering: .relaxed) == 0)
    }

    @Test("5% packet loss on both SIPp sides: retransmissions recover every call")
    func lossyCalls() throws {
        let proxy = try ProxyHarness()
        let uasPort = Ports.free()
        let uas = try SIPp.uas("uas.xml", port: uasPort, controlPort: Ports.free(), extra: ["-m", "2000", "-lost", "5"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(uasPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: 2000, rate: 200, extra: ["-lost", "5"])
        let client = uac.wait(seconds: 110)
        let server = uas.wait(seconds: 40)
        #expect(client.successful == 2000, "\(client.output)")
        #expect(client.failed == 0)
        #expect(server.failed == 0, "\(server.output)")
        #expect(client.retransmissions > 0)
    }
}
