/// Turns at the shared dnsmasq test server: tests that freeze it (SIGSTOP) take an exclusive turn, tests
/// that only query it take shared turns, so a frozen server never times out another suite's lookups.
/// First come, first served; waiting is asynchronous, so other tests go on meanwhile.
public actor DNSServerTurns {
    /// The process-wide turns (every test target of the test bundle shares them).
    public static let shared = DNSServerTurns()
    private var readers = 0
    private var writer = false
    private var waiting: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Waits for a shared turn (queries only) or an exclusive one (may freeze the server).
    public func acquire(exclusive: Bool) async {
        if waiting.isEmpty, canEnter(exclusive) {
            enter(exclusive)
            return
        }
        await withCheckedContinuation { waiting.append((exclusive, $0)) }
    }

    /// Ends a turn taken with ``acquire(exclusive:)`` and lets the next waiters in.
    public func release(exclusive: Bool) {
        if exclusive { writer = false } else { readers -= 1 }
        while let first = waiting.first, canEnter(first.exclusive) {
            waiting.removeFirst()
            enter(first.exclusive)
            first.continuation.resume()
        }
    }

    private func canEnter(_ exclusive: Bool) -> Bool { !writer && (!exclusive || readers == 0) }

    private func enter(_ exclusive: Bool) {
        if exclusive { writer = true } else { readers += 1 }
    }
}
