import Glibc
import Reactor
import Synchronization
import TandemTestSupport
@testable import TandemAsync

/// Concurrency gauge for offload jobs: current and peak.
final class Gauge: Sendable {
    let current = Atomic<Int>(0)
    let peak = Atomic<Int>(0)
    func enter() {
        let now = current.add(1, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (done, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if done { break }
            seen = original
        }
    }
    func leave() { current.subtract(1, ordering: .relaxed) }
}

/// A driver whose native form is driven by the test.
final class ManualOperation: AsyncOperation {
    let driver: String
    let supportedPaths: AsyncPaths = .native
    var context: NativeContext?
    var cancelCount = 0
    var completeInStart: AsyncResult?

    init(driver: String = "manual") { self.driver = driver }

    func start(_ context: NativeContext) {
        self.context = context
        if let completeInStart { context.complete(completeInStart) }
    }

    func cancel() { cancelCount += 1 }
}

/// A driver with only a blocking form.
final class BlockingOperation: AsyncOperation {
    let driver: String
    let supportedPaths: AsyncPaths = .blocking
    let body: @Sendable () -> AsyncResult

    init(driver: String, body: @escaping @Sendable () -> AsyncResult) {
        self.driver = driver
        self.body = body
    }

    func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? { body }
}

func sleepMs(_ ms: Int) { usleep(useconds_t(ms * 1000)) }

/// Whether `pid` still exists (zombie included).
func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}
