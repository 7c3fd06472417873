import Dispatch
import Synchronization

/// One driver's share of the ``OffloadPool`` on Dispatch: a FIFO of tickets, `limit` slots, and admission
/// control (a job is refused when `waiting + running >= limit + queueBound`, the `-4` of `async()`).
///
/// **The bound.** A job reaches Dispatch only through a slot: submitting takes a free slot, if any, and
/// hands that slot's queue one *drain* work item, which runs queued jobs one after the other until the FIFO
/// is empty and then gives the slot back. A lane therefore never has more than `limit` work items in
/// Dispatch, queued or running, so never more than `limit` jobs blocked at once, and the pool never more
/// than the sum of the limits, whatever Dispatch does with its idle threads. Jobs beyond the limit wait in
/// the lane's own FIFO, where the `-4` bound applies, not in Dispatch.
///
/// **The queues.** Each slot is a serial `DispatchQueue` of the lane (label `tandem.offload.DRIVER.N`)
/// created without an explicit target, so that libdispatch targets it at its *overcommit* root queue of
/// the QoS: that pool starts a thread at once for a work item when no thread of it is idle. A concurrent
/// queue cannot be used: its target is a non-overcommit root queue (`DispatchQueue.global(qos:)`, or the
/// default for concurrent queues), whose pool on Linux runs at most one thread per CPU and adds a thread
/// only about once a second when all of them block — 16 jobs of 100 ms on one concurrent queue took 0.84 s
/// on the 2-CPU test box (2 at a time), on 16 serial queues 0.12 s; and Swift cannot name an overcommit
/// root queue as a target. A serial queue per slot is also what the slot needs: at most one drain runs on
/// it, and the slot is free again exactly when its drain ends.
///
/// **QoS `.userInitiated`.** A caller waits for every job (a suspended SIP transaction), so not `.utility`
/// or `.background`; `.userInteractive` is for work on a UI's critical path. It also keeps the offload
/// threads in a pool of their own, apart from the `.default` pool that other Dispatch users of the process
/// (Foundation, `DispatchQueue.global()`) share. On Linux the QoS chooses libdispatch's root pool; it does
/// not change the threads' scheduling priority.
///
/// A job whose owner timed out keeps its slot until the blocking call returns.
final class OffloadLane: Sendable {
    let driver: String
    let limit: Int
    let queueBound: Int
    private let counters: AsyncDriverCounters
    private let gauges: OffloadGauges
    private let queues: [DispatchQueue]
    private let state: Mutex<State>

    private struct State {
        var fifo: [OffloadTicket?] = []
        var head = 0
        /// Jobs taken from the FIFO and not finished (what admission counts, as before Dispatch).
        var running = 0
        /// Slots whose drain is not in Dispatch now.
        var freeSlots: [Int]
        var shuttingDown = false

        var waiting: Int { fifo.count - head }
    }

    init(driver: String, limit: Int, queueBound: Int, counters: AsyncDriverCounters, gauges: OffloadGauges) {
        self.driver = driver
        self.limit = max(1, limit)
        self.queueBound = max(0, queueBound)
        self.counters = counters
        self.gauges = gauges
        // No target: libdispatch's overcommit root queue of the QoS (see above).
        queues = (0..<self.limit).map { DispatchQueue(label: "tandem.offload.\(driver).\($0)", qos: .userInitiated) }
        // Popped from the end: slot 0 is used first.
        state = Mutex(State(freeSlots: Array((0..<self.limit).reversed())))
    }

    /// Queues `ticket`; `false` (nothing runs) if the lane is full or shutting down.
    func submit(_ ticket: OffloadTicket) -> Bool {
        let (accepted, slot) = state.withLock { s -> (Bool, Int?) in
            if s.shuttingDown || s.waiting + s.running >= limit + queueBound { return (false, nil) }
            s.fifo.append(ticket)
            counters.queued.add(1, ordering: .relaxed)
            guard let slot = s.freeSlots.popLast() else { return (true, nil) }  // a busy slot's drain takes it
            gauges.threadStarted()
            return (true, slot)
        }
        if let slot { queues[slot].async { [self] in drain(slot: slot) } }
        return accepted
    }

    /// Stops accepting jobs; the queued ones still run.
    func shutdown() {
        state.withLock { $0.shuttingDown = true }
    }

    /// (slots in Dispatch, jobs running, jobs waiting) — for tests.
    var slotState: (active: Int, running: Int, waiting: Int) {
        state.withLock { (limit - $0.freeSlots.count, $0.running, $0.waiting) }
    }

    /// One slot's work item: runs queued jobs until the FIFO is empty, then frees the slot.
    private func drain(slot: Int) {
        var finished = false
        while let ticket = next(slot: slot, finished: finished) {
            run(ticket)
            finished = true
        }
    }

    /// The next job for `slot`, or `nil` after freeing the slot (FIFO empty). `finished`: the slot's
    /// previous job ended.
    private func next(slot: Int, finished: Bool) -> OffloadTicket? {
        state.withLock { s in
            if finished { s.running -= 1 }
            guard s.head < s.fifo.count else {
                s.freeSlots.append(slot)
                gauges.threadExited()  // under the lock: the gauge never counts a slot twice
                return nil
            }
            let ticket = s.fifo[s.head]!
            s.fifo[s.head] = nil
            s.head += 1
            if s.head >= 256 && s.head * 2 >= s.fifo.count {
                s.fifo.removeFirst(s.head)
                s.head = 0
            }
            s.running += 1
            return ticket
        }
    }

    private func run(_ ticket: OffloadTicket) {
        guard ticket.claim() else { return }  // abandoned while queued: never runs
        counters.queued.subtract(1, ordering: .relaxed)
        counters.offloadBusy.add(1, ordering: .relaxed)
        gauges.busyStarted()
        let result = ticket.body()
        gauges.busyEnded()
        counters.offloadBusy.subtract(1, ordering: .relaxed)
        ticket.deliver(result)  // dropped (and counted late) if the job was resolved already
    }
}

/// Pool-wide gauges (current and peak), shared by every lane: `threads` counts the slots whose drain is in
/// Dispatch (each holds at most one Dispatch thread), `busy` the jobs running.
final class OffloadGauges: Sendable {
    let threads = Atomic<Int>(0)
    let peakThreads = Atomic<Int>(0)
    let busy = Atomic<Int>(0)
    let peakBusy = Atomic<Int>(0)

    func threadStarted() { raise(threads, peakThreads) }
    func threadExited() { threads.subtract(1, ordering: .relaxed) }
    func busyStarted() { raise(busy, peakBusy) }
    func busyEnded() { busy.subtract(1, ordering: .relaxed) }

    private func raise(_ gauge: borrowing Atomic<Int>, _ peak: borrowing Atomic<Int>) {
        let now = gauge.add(1, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }
}
