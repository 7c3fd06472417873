/// The outcome of one async operation, as the routing script sees it in `$rc` plus its output values.
///
/// ## Return-code table (the same for every async function)
/// | rc   | meaning |
/// |------|---------|
/// | > 0  | success (drivers may return a count, e.g. rows fetched; `1` otherwise) |
/// | -1   | error (driver failure, non-zero exit status, explicit cancel of the transaction) |
/// | -2   | empty / not found (e.g. a query that returned no row) |
/// | -3   | timeout (the async layer gave up waiting; the operation was cancelled) |
/// | -4   | rejected by an offload limit (the driver's queue was full; the job never ran) |
///
/// ``status`` tells the proxy *why* the job ended (a script only sees ``rc``).
public struct AsyncResult: Sendable, Equatable {
    /// rc for plain success.
    public static let rcSuccess = 1
    /// rc for an error (also used for an explicit cancel).
    public static let rcError = -1
    /// rc for "empty result / not found".
    public static let rcNotFound = -2
    /// rc for a timeout.
    public static let rcTimeout = -3
    /// rc for a job rejected because the driver's offload queue was full.
    public static let rcRejected = -4

    /// The script-visible return code (see the table above).
    public var rc: Int
    /// Named output values (mapped by the script binding into `$avp`/`$var`).
    public var outputs: [AsyncOutput]
    /// How the job ended.
    public var status: AsyncStatus

    /// A result produced by a driver (``status`` = `.completed`).
    public init(rc: Int, outputs: [AsyncOutput] = []) {
        self.rc = rc
        self.outputs = outputs
        self.status = .completed
    }

    init(rc: Int, status: AsyncStatus) {
        self.rc = rc
        self.outputs = []
        self.status = status
    }

    /// Success with rc 1.
    public static let success = AsyncResult(rc: rcSuccess)
    /// A driver error with rc -1.
    public static let failure = AsyncResult(rc: rcError)
    /// The engine gave up waiting (rc -3).
    public static let timedOut = AsyncResult(rc: rcTimeout, status: .timedOut)
    /// The job was cancelled explicitly, e.g. CANCEL of the suspended transaction (rc -1).
    public static let cancelled = AsyncResult(rc: rcError, status: .cancelled)
    /// The offload queue of the driver was full (rc -4).
    public static let rejected = AsyncResult(rc: rcRejected, status: .rejected)

    /// A driver's own queue (connection pool, pending transfers) was full: rc -4 at once, counted as
    /// rejected; `reason` goes into the `"error"` output.
    public static func rejected(reason: String) -> AsyncResult {
        var result = AsyncResult.rejected
        result.outputs = [AsyncOutput("error", .string(reason))]
        return result
    }

    /// `rc > 0`.
    public var isSuccess: Bool { rc > 0 }
    /// Whether the job was cancelled explicitly.
    public var isCancelled: Bool { status == .cancelled }

    /// The first output called `name`.
    public func output(_ name: String) -> AsyncValue? {
        for output in outputs where output.name == name { return output.value }
        return nil
    }
}

/// Why an async job ended; drives the per-driver counters.
public enum AsyncStatus: Sendable, Equatable {
    /// The driver produced the result (any rc).
    case completed
    /// The engine's timeout fired first (rc -3).
    case timedOut
    /// ``AsyncWorker/cancel(_:)`` was called (rc -1).
    case cancelled
    /// The offload queue was full (rc -4).
    case rejected
}
