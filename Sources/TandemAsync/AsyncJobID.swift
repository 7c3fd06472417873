/// Identifies one started async job: the owning worker and a per-worker sequence number (never reused).
public struct AsyncJobID: Hashable, Sendable, CustomStringConvertible {
    /// Index of the ``AsyncWorker`` that owns the job.
    public let worker: UInt32
    /// Per-worker sequence number.
    public let sequence: UInt64

    /// Creates an id.
    public init(worker: UInt32, sequence: UInt64) {
        self.worker = worker
        self.sequence = sequence
    }

    public var description: String { "AsyncJob(\(worker):\(sequence))" }
}
