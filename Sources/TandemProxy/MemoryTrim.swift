import Logging
import Reactor
import Synchronization

/// Gives memory back after a burst (issue 14 item 4): glibc keeps freed memory inside its heaps, so
/// RSS stayed at its high-water mark after a flood. Worker 0 samples the transactions in use every
/// ``sampleMilliseconds``; once they fell to a tenth of the peak seen since the last trim (and by at
/// least ``minimumDrop``) — the load is mostly over, so the pause `malloc_trim` causes (it takes the arena
/// locks while it walks the heaps) hits little traffic — it trims, at most once per
/// ``minimumTrimIntervalMilliseconds``.
///
/// One trim is not enough: what a burst leaves is freed over the following seconds (transactions that
/// end after the sample, their timers and buffers), and a 1-minute soak at 300 calls/s kept 12 MB of free
/// pages in the workers' arenas after the trim at 0 transactions, which a later `malloc_trim` returned.
/// So while the count stays at or below its level at the trim, ``settleTrims`` more follow, each
/// ``minimumTrimIntervalMilliseconds`` after the previous one.
extension ProxyCore {
    static let sampleMilliseconds: UInt64 = 5_000
    static let minimumTrimIntervalMilliseconds: UInt64 = 10_000
    static let minimumDrop = 1_000
    static let settleTrims = 2

    /// The trim bookkeeping of worker 0.
    struct MemoryTrimState: Sendable {
        var peak = 0
        var lastTrim: UInt64 = 0
        /// Follow-up trims left after the last one, while the count stays at or below ``trimLevel``.
        var settleLeft = 0
        /// Transactions in use at the last trim.
        var trimLevel = 0
    }

    /// Starts the sampling on `worker` (worker 0 only).
    func startMemoryTrim(on worker: WorkerContext) {
        _ = worker.reactor.schedule(afterMilliseconds: Self.sampleMilliseconds) { [weak worker, weak self] in
            guard let worker, let self else { return }
            self.sampleForTrim(inUse: self.transactionCount + self.clientTransactionCount,
                               now: System.monotonicNanoseconds() / 1_000_000)
            self.startMemoryTrim(on: worker)
        }
    }

    /// One sample: trims when `inUse` fell far enough below the peak. Returns true if it trimmed.
    @discardableResult
    func sampleForTrim(inUse: Int, now: UInt64, trim: () -> Void = { System.releaseFreeMemory() }) -> Bool {
        let due = memoryTrim.withLock { state -> Bool in
            state.peak = max(state.peak, inUse)
            if inUse > state.trimLevel { state.settleLeft = 0 }  // load again: no follow-up
            let dropped = state.peak - inUse >= Self.minimumDrop && inUse * 10 <= state.peak
            guard dropped || state.settleLeft > 0,
                  now >= state.lastTrim + Self.minimumTrimIntervalMilliseconds || state.lastTrim == 0 else { return false }
            state.settleLeft = dropped ? Self.settleTrims : state.settleLeft - 1
            state.peak = inUse
            state.trimLevel = inUse
            state.lastTrim = now
            return true
        }
        guard due else { return false }
        trim()
        counters.memoryTrims.add(1, ordering: .relaxed)
        logger.debug("transactions dropped well below their peak; free heap pages returned", metadata: [
            "transactions": "\(inUse)",
        ])
        return true
    }
}
