import Glibc

/// `sleep(seconds)` / `usleep(microseconds)`: natively a reactor timer (no thread, no fd); the blocking
/// form sleeps the calling thread (offload pool or, in `sync` mode, the worker) — kept for benchmarks.
/// Result: rc 1.
public final class SleepOperation: AsyncOperation {
    /// `"sleep"` or `"usleep"`.
    public let driver: String
    /// How long to sleep.
    public let microseconds: UInt64
    public let supportedPaths: AsyncPaths = .all

    /// `sleep(seconds)`.
    public init(seconds: UInt64) {
        driver = "sleep"
        microseconds = seconds.multipliedReportingOverflow(by: 1_000_000).overflow ? .max : seconds * 1_000_000
    }

    /// `usleep(microseconds)`.
    public init(microseconds: UInt64) {
        driver = "usleep"
        self.microseconds = microseconds
    }

    public func start(_ context: NativeContext) {
        context.schedule(after: .microseconds(Int64(clamping: microseconds))) { [context] in
            context.complete(.success)
        }
    }

    public func cancel() {}  // the context cancels the timer

    /// Its one timer is the context's: nothing to cancel, so the job need not keep the operation.
    public var needsCancel: Bool { false }

    /// The native sleep always completes after ``microseconds``.
    public var nativeCompletionDelayMicroseconds: UInt64? { microseconds }

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        // Sleeps no longer than the timeout; a sleep cut short by it is a timeout (rc -3).
        let limit = timeoutMs.multipliedReportingOverflow(by: 1000).overflow ? UInt64.max : timeoutMs * 1000
        let microseconds = min(self.microseconds, limit)
        let cut = self.microseconds > limit
        return {
            var request = timespec(tv_sec: Int(clamping: microseconds / 1_000_000),
                                   tv_nsec: Int((microseconds % 1_000_000) * 1000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            return cut ? .timedOut : .success
        }
    }
}
