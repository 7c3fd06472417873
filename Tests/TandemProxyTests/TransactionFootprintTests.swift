import SIPCore
import Testing
@testable import TandemProxy

/// What a transaction holds inline (issue 19: memory per suspended transaction).
@Suite struct TransactionFootprintTests {
    @Test func stateIsPacked() {
        // The suspended request is one reference (and its CANCEL hook), not a message inline; timer
        // settings one reference; six server timer tokens; flags in padding.
        #expect(MemoryLayout<SuspendedRequest?>.size <= 25)
        #expect(MemoryLayout<ServerTimerTokens>.size == 24)
        #expect(MemoryLayout<ProxyTransaction.State>.size <= 400)
        #expect(MemoryLayout<TransactionKey>.size == 48)
    }
}
