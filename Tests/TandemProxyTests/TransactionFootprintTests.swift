import SIPCore
import Testing
@testable import TandemProxy

/// What a transaction holds inline (issue 19: memory per suspended transaction).
@Suite struct TransactionFootprintTests {
    @Test func stateIsPacked() {
        // The suspended request is one record (a protocol existential: reference and witness table, so
        // that the router's record can be its async job too) and its CANCEL hook, not a message inline;
        // timer settings one reference; six server timer tokens; flags in padding.
        #expect(MemoryLayout<SuspendedRequest?>.size <= 33)
        #expect(MemoryLayout<ServerTimerTokens>.size == 24)
        #expect(MemoryLayout<ProxyTransaction.State>.size <= 400)
        #expect(MemoryLayout<TransactionKey>.size == 48)
    }
}
