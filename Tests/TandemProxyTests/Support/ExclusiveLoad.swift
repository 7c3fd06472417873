import Testing

/// Runs a suite or test that puts a SIPp load on the proxy while no other such load runs.
///
/// Swift Testing runs suites in parallel; two call loads at once on a 2-core machine make each other
/// drop calls, which would fail tests that assert "0 failed calls". Waiting is asynchronous, so the
/// other tests go on meanwhile.
struct ExclusiveLoad: SuiteTrait, TestTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        await LoadTurns.shared.acquire()
        do {
            try await function()
        } catch {
            await LoadTurns.shared.release()
            throw error
        }
        await LoadTurns.shared.release()
    }
}

extension Trait where Self == ExclusiveLoad {
    /// Never runs at the same time as another `.exclusiveLoad` suite or test.
    static var exclusiveLoad: ExclusiveLoad { ExclusiveLoad() }
}

/// A process-wide turn for load tests, handed out first come, first served.
actor LoadTurns {
    static let shared = LoadTurns()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
