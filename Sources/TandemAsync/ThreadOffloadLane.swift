import Reactor
import Synchronization

/// The pthread form of a lane (`offload_lanes threads`), kept only to measure it against ``OffloadLane``.
///
/// One driver's share of the ``OffloadPool``: a FIFO of tickets, at most `limit` threads (started on
/// demand, parked on a condition variable when idle, exiting after `idleTimeoutMs`), and admission
/// control: a job is refused when `waiting + running >= limit + queueBound`.
///
/// `@unchecked Sendable`: the mutable fields are only touched with `lock` held; `limit`, `queueBound`,
/// `driver`, `counters`, `gauges` are immutable.
final class ThreadOffloadLane: OffloadLaneProtocol, @unchecked Sendable {
    let driver: String
    let limit: Int
    let queueBound: Int
    let idleTimeoutMs: UInt64
    private let counters: AsyncDriverCounters
    private let gauges: OffloadGauges
    private let lock = ConditionLock()

    // Protected by `lock`.
    private var queue: [OffloadTicket?] = []
    private var head = 0
    private var running = 0
    private var threads = 0
    private var idle = 0
    private var shuttingDown = false

    init(driver: String, limit: Int, queueBound: Int, idleTimeoutMs: UInt64,
         counters: AsyncDriverCounters, gauges: OffloadGauges) {
        self.driver = driver
        self.limit = max(1, limit)
        self.queueBound = max(0, queueBound)
        self.idleTimeoutMs = idleTimeoutMs
        self.counters = counters
        self.gauges = gauges
    }

    /// Queues `ticket`; `false` if the lane is full or shutting down.
    func submit(_ ticket: OffloadTicket) -> Bool {
        lock.lock()
        let waiting = queue.count - head
        if shuttingDown || waiting + running >= limit + queueBound {
            lock.unlock()
            return false
        }
        queue.append(ticket)
        counters.queued.add(1, ordering: .relaxed)
        let spawn = waiting + 1 > idle && threads < limit
        if spawn {
            threads += 1
        } else if idle > 0 {
            lock.signal()
        }
        lock.unlock()
        if spawn { startThread() }
        return true
    }

    /// Lets the threads exit once the queue is empty.
    func shutdown() {
        lock.withLock {
            shuttingDown = true
            lock.broadcast()
        }
    }

    /// (threads, running, waiting) — for tests and metrics.
    var state: (threads: Int, running: Int, waiting: Int) {
        lock.withLock { (threads, running, queue.count - head) }
    }

    private func startThread() {
        gauges.threadStarted()
        do {
            _ = try WorkerThread(name: "off-\(driver)") { [self] in threadMain() }
        } catch {
            gauges.threadExited()
            lock.withLock { threads -= 1 }
            // Queued jobs still run when another thread frees up; otherwise their timeout resolves them.
        }
    }

    private func threadMain() {
        lock.lock()
        while true {
            if head < queue.count {
                let ticket = queue[head]!
                queue[head] = nil
                head += 1
                if head >= 256 && head * 2 >= queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                running += 1
                lock.unlock()
                if ticket.claim() {
                    counters.queued.subtract(1, ordering: .relaxed)
                    counters.offloadBusy.add(1, ordering: .relaxed)
                    gauges.busyStarted()
                    let result = ticket.body()
                    gauges.busyEnded()
                    counters.offloadBusy.subtract(1, ordering: .relaxed)
                    ticket.deliver(result)  // dropped (and counted late) if the job was resolved already
                }
                lock.lock()
                running -= 1
                continue
            }
            if shuttingDown { break }
            idle += 1
            let signalled = lock.wait(milliseconds: idleTimeoutMs)
            idle -= 1
            if !signalled && head == queue.count { break }
        }
        threads -= 1
        lock.unlock()
        gauges.threadExited()
    }
}
