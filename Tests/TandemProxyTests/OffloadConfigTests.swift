import TandemScript
import TandemServer
import Testing
import TandemTestSupport

/// The offload pool's settings as a script gives them.
struct OffloadConfigTests {
    private func load(_ extra: String) -> TandemServer.Loaded {
        TandemServer.load(source: """
            socket = udp:127.0.0.1:\(Ports.free())
            loadmodule "tm.so"
            \(extra)
            route { t_relay(); }
            """, fileName: "offload.cfg")
    }

    @Test("offload_limit values adding up beyond the Dispatch pool's 255 threads load with a warning")
    func limitsBeyondTheDispatchPool() throws {
        let big = load(#"modparam("tandem", "offload_limit", "exec=200;postgres=100")"#)
        #expect(big.server != nil)
        let warning = try #require(big.diagnostics.first { $0.message.contains("Dispatch pool") })
        #expect(warning.severity == .warning)
        #expect(warning.message.contains("308"), "200 + 100 + MongoDB's default 8: \(warning.message)")
        let small = load(#"modparam("tandem", "offload_limit", "exec=64;postgres=64")"#)
        #expect(small.server != nil)
        #expect(!small.diagnostics.contains { $0.message.contains("Dispatch pool") })
    }
}
