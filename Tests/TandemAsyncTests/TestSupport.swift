import Glibc
import Reactor
import Synchronization
@testable import TandemAsync

/// Mutable state captured by loop-thread callbacks.
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

/// Thread-safe cell for cross-thread checks.
final class Shared<T: Sendable>: Sendable {
    private let storage: Mutex<T>
    init(_ value: T) { storage = Mutex(value) }
    var value: T { storage.withLock { $0 } }
    func mutate<R>(_ body: (inout T) -> R) -> R { storage.withLock { body(&$0) } }
}

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

/// Runs the loop until `condition` holds or `limitMs` of real time passed.
func spin(_ reactor: Reactor, limitMs: Int = 5000, until condition: () -> Bool) throws {
    let start = System.monotonicNanoseconds()
    while !condition() {
        if System.monotonicNanoseconds() - start > UInt64(limitMs) * 1_000_000 { return }
        try reactor.runOnce(timeoutMs: 10)
    }
}

func sleepMs(_ ms: Int) { usleep(useconds_t(ms * 1000)) }

/// Whether `pid` still exists (zombie included).
func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}
