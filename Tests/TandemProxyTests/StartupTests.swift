import Reactor
import Testing
@testable import TandemProxy

/// Starting the proxy: address errors surface at start, before any worker runs.
struct StartupTests {
    @Test("A second proxy on an address already in use fails to start instead of sharing the port")
    func addressInUse() throws {
        let first = try ProxyHarness()
        let settings = ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: first.port)!], workers: 2)
        let second = ProxyServer(core: ProxyCore(settings: settings, router: RelayRouter()))
        #expect(throws: IOError.self) { try second.start() }
    }
}
