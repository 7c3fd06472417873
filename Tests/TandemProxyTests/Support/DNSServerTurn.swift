import Testing
import TandemTestSupport

/// Runs a suite or test during a turn at the shared dnsmasq test server (``DNSServerTurns``).
struct DNSServerTurn: SuiteTrait, TestTrait, TestScoping {
    /// Whether the suite or test may freeze the server.
    let exclusive: Bool

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        await DNSServerTurns.shared.acquire(exclusive: exclusive)
        do {
            try await function()
        } catch {
            await DNSServerTurns.shared.release(exclusive: exclusive)
            throw error
        }
        await DNSServerTurns.shared.release(exclusive: exclusive)
    }
}

extension Trait where Self == DNSServerTurn {
    /// Freezes the dnsmasq test server: runs while no other suite uses it.
    static var freezesDNSServer: DNSServerTurn { DNSServerTurn(exclusive: true) }
}
