/// The cross-thread part of a ``Reactor``: the task queue, the stop flag and the eventfd used to wake
/// the loop. Shared by the reactor and every ``ReactorHandle``; it owns the eventfd and closes it only
/// when the last reference goes away, so a late `wakeup()` can never write to a recycled descriptor.
///
/// `@unchecked Sendable`: every mutable field is only read or written while holding `lock`.
final class ReactorMailbox: @unchecked Sendable {
    let lock = Lock()
    let eventFD: Int32

    // Protected by `lock`:
    private var tasks: [@Sendable () -> Void] = []
    /// The loop is in (or about to enter) a blocking `epoll_wait`; writers must kick the eventfd.
    private var sleeping = false
    /// An eventfd write is outstanding (not yet consumed by the loop): further kicks are redundant.
    private var wakePending = false
    private var stopRequested = false
    private var closed = false
    /// Number of eventfd writes performed (for coalescing tests/diagnostics).
    private var eventFDWrites = 0

    init() throws(IOError) {
        eventFD = try System.eventFD()
    }

    deinit {
        try? System.close(eventFD)
    }

    // MARK: Any thread

    /// Enqueues `task`; returns `false` (dropping it) if the reactor was closed.
    func enqueue(_ task: @escaping @Sendable () -> Void) -> Bool {
        lock.lock()
        if closed {
            lock.unlock()
            return false
        }
        tasks.append(task)
        let kick = takeKickLocked()
        lock.unlock()
        if kick { kickEventFD() }
        return true
    }

    /// Wakes the loop if it may be sleeping (coalesced).
    func wakeup() {
        lock.lock()
        let kick = !closed && takeKickLocked()
        lock.unlock()
        if kick { kickEventFD() }
    }

    /// Asks `run()` to return at the next iteration boundary.
    func requestStop() {
        lock.lock()
        stopRequested = true
        let kick = !closed && takeKickLocked()
        lock.unlock()
        if kick { kickEventFD() }
    }

    var writeCount: Int { lock.withLock { eventFDWrites } }
    var isSleeping: Bool { lock.withLock { sleeping } }

    /// Decides (under the lock) whether this caller must write the eventfd.
    private func takeKickLocked() -> Bool {
        guard sleeping, !wakePending else { return false }
        wakePending = true
        eventFDWrites += 1
        return true
    }

    private func kickEventFD() {
        // Can only fail with EAGAIN when the counter is saturated, which still means "wake".
        _ = try? System.eventFDWrite(eventFD, 1)
    }

    // MARK: Loop thread

    /// Called before `epoll_wait`. Returns the timeout to use: 0 if tasks are queued or a stop is
    /// pending, otherwise `timeoutMs` (and, if that may block, marks the loop as sleeping).
    func prepareToWait(timeoutMs: Int32) -> (timeoutMs: Int32, markedSleeping: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if !tasks.isEmpty || stopRequested { return (0, false) }
        if timeoutMs == 0 { return (0, false) }
        sleeping = true
        return (timeoutMs, true)
    }

    func finishedWaiting() {
        lock.withLock { sleeping = false }
    }

    /// Consumes the eventfd after it was reported readable.
    func consumeWakeup() {
        _ = try? System.eventFDRead(eventFD)
        lock.withLock { wakePending = false }
    }

    /// Swaps the queued tasks into `batch` (which must be empty).
    func takeTasks(into batch: inout [@Sendable () -> Void]) {
        lock.lock()
        swap(&tasks, &batch)
        lock.unlock()
    }

    /// Returns and clears the stop request.
    func consumeStopRequest() -> Bool {
        lock.withLock {
            let requested = stopRequested
            stopRequested = false
            return requested
        }
    }

    /// Marks the mailbox closed: later `enqueue` calls are refused and queued tasks are dropped.
    func close() {
        let dropped: [@Sendable () -> Void] = lock.withLock {
            closed = true
            let pending = tasks
            tasks = []
            return pending
        }
        _ = dropped  // released outside the lock
    }
}
