import Reactor
import Synchronization

/// Where every finished job's result goes — native drivers on the loop thread and offload threads alike.
/// Posting is thread-safe; a batch of posts costs one `ReactorHandle.execute` (which wakes the owner's
/// epoll through its eventfd when it sleeps). The drain runs on the owning worker's loop thread and
/// hands each entry to ``AsyncWorker/deliver(sequence:result:counters:)`` — the single code path that
/// resolves a job exactly once.
///
/// `@unchecked Sendable`: `pending`/`drainScheduled` live in a `Mutex`; `target` is written once by the
/// owning worker before any post and only read by `drain()`, which always runs on that worker's loop
/// thread (it is only ever invoked through `handle.execute`).
public final class CompletionQueue: @unchecked Sendable {
    struct Entry {
        var sequence: UInt64
        var result: AsyncResult
        var counters: AsyncDriverCounters
    }

    private struct State {
        var pending: [Entry] = []
        var drainScheduled = false
    }

    private let handle: ReactorHandle
    private let state = Mutex(State())
    private var spare: [Entry] = []  // loop thread only
    weak var target: AsyncWorker?

    init(handle: ReactorHandle) {
        self.handle = handle
    }

    /// Queues a completion for the job `sequence` of the owning worker (any thread).
    func post(sequence: UInt64, result: AsyncResult, counters: AsyncDriverCounters) {
        let schedule = state.withLock { state -> Bool in
            state.pending.append(Entry(sequence: sequence, result: result, counters: counters))
            if state.drainScheduled { return false }
            state.drainScheduled = true
            return true
        }
        if schedule {
            let accepted = handle.execute { [self] in drain() }
            if !accepted {
                // Reactor closed: nobody will ever resume these jobs; count them as dropped.
                let dropped = state.withLock { state -> [Entry] in
                    let d = state.pending
                    state.pending = []
                    state.drainScheduled = false
                    return d
                }
                for entry in dropped { entry.counters.lateDropped.add(1, ordering: .relaxed) }
            }
        }
    }

    /// Number of posted, not yet delivered completions.
    public var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Takes every pending entry and delivers it (loop thread).
    private func drain() {
        var batch = spare
        state.withLock { state in
            swap(&batch, &state.pending)
            state.drainScheduled = false
        }
        let worker = target
        for entry in batch {
            if let worker {
                worker.deliver(sequence: entry.sequence, result: entry.result, counters: entry.counters)
            } else {
                entry.counters.lateDropped.add(1, ordering: .relaxed)
            }
        }
        batch.removeAll(keepingCapacity: true)
        spare = batch
    }
}
