import CReactor
import Glibc

/// A single-threaded epoll event loop: descriptor readiness callbacks, timers, and a cross-thread task
/// queue. Tandem runs one per SIP worker thread; the async engine uses it to watch driver sockets and
/// its completion queue.
///
/// ## Threading invariant
/// A reactor is *loop-owned*: `register`/`modify`/`deregister`/`schedule`/`cancel`/`runOnce`/`run`/`close`
/// and all callbacks happen on one thread — the thread that first calls `run()`/`runOnce()` (set-up
/// calls before that may come from the creating thread). Debug builds assert this. Other threads may
/// only use ``execute(_:)``, ``wakeup()``, ``stop()`` and ``handle`` (a `Sendable` ``ReactorHandle``).
/// That is why the class is `@unchecked Sendable`: it may be handed to its worker thread, and its
/// thread-safe members lock internally (``ReactorMailbox``).
///
/// ## Iteration
/// `epoll_wait` (up to `maxEventsPerWait` events; timeout from the earliest timer, 0 if tasks are queued)
/// → descriptor callbacks → due timers → queued tasks. Callbacks may register, modify and deregister
/// anything (themselves included); events for a registration removed earlier in the same batch are
/// dropped thanks to the generation packed into `epoll_data`.
///
/// Callbacks are stored strongly until deregistered or until ``close()``; capture the reactor weakly or
/// call `close()` to avoid reference cycles.
public final class Reactor: @unchecked Sendable {
    /// A readiness callback.
    public typealias Callback = (ReadyEvents) -> Void

    private struct Registration {
        var fd: Int32
        var generation: UInt32
        var interest: Interest
        var callback: Callback?
    }

    private static let wakeupTag: UInt64 = .max

    private let clock: any ReactorClock
    private var epollFD: Int32
    private let mailbox: ReactorMailbox
    private let events: UnsafeMutablePointer<epoll_event>
    private let maxEvents: Int32

    private var registrations: [Registration] = []
    private var freeRegistrations: [UInt32] = []
    private var liveRegistrations = 0
    /// The timer callbacks, each a ``TimerCallback`` so that a closure is stored as it is (a bare closure in
    /// the generic queue would be wrapped in a reabstraction thunk: one more allocation per timer).
    private var timers = TimerQueue<TimerCallback>()
    private var taskBatch: [@Sendable () -> Void] = []
    private var owner: pthread_t?
    private var isClosed = false

    /// Creates a reactor with its own epoll instance and wake-up eventfd.
    /// - Parameters:
    ///   - clock: time source for timers (inject a ``ManualClock`` in tests).
    ///   - maxEventsPerWait: size of the `epoll_wait` batch.
    public init(clock: any ReactorClock = MonotonicClock(), maxEventsPerWait: Int = 64) throws(IOError) {
        precondition(maxEventsPerWait > 0)
        self.clock = clock
        self.maxEvents = Int32(clamping: maxEventsPerWait)
        epollFD = try System.epollCreate()
        do {
            mailbox = try ReactorMailbox()
            try System.epollControl(epollFD, EPOLL_CTL_ADD, fd: mailbox.eventFD, events: EPOLLIN.rawValue, data: Self.wakeupTag)
        } catch {
            try? System.close(epollFD)
            throw error
        }
        events = .allocate(capacity: maxEventsPerWait)
        events.initialize(repeating: epoll_event(), count: maxEventsPerWait)
        taskBatch.reserveCapacity(16)
    }

    deinit {
        close()
        events.deallocate()
    }

    // MARK: - Thread-safe API

    /// A `Sendable` handle for other threads (execute / wakeup / stop).
    public var handle: ReactorHandle { ReactorHandle(mailbox: mailbox) }

    /// Runs `task` on the loop thread (any thread may call). Returns `false` if the reactor is closed.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        mailbox.enqueue(task)
    }

    /// Wakes the loop if it is blocked in `epoll_wait` (any thread; coalesced).
    public func wakeup() {
        mailbox.wakeup()
    }

    /// Makes ``run()`` return after the current iteration (any thread).
    public func stop() {
        mailbox.requestStop()
    }

    // MARK: - Loop-thread API

    /// The current time from the reactor's clock.
    public var now: Deadline { clock.now() }

    /// Number of live descriptor registrations.
    public var registrationCount: Int { liveRegistrations }

    /// Number of pending timers.
    public var timerCount: Int { timers.count }

    /// The deadline of the earliest pending timer (nil when none): lets a test on a ``ManualClock``
    /// advance the time from one timer to the next.
    public var nextTimerDeadline: Deadline? { timers.nextDeadline }

    /// Starts watching `fd` (level-triggered). The reactor never closes registered descriptors.
    public func register(fd: Int32, interest: Interest, callback: @escaping Callback) throws(IOError) -> RegistrationID {
        assertOwner()
        try checkOpen("epoll_ctl")
        let index: UInt32
        let generation: UInt32
        if let free = freeRegistrations.popLast() {
            index = free
            generation = registrations[Int(free)].generation
        } else {
            precondition(registrations.count < Int(UInt32.max - 1), "too many registrations")
            index = UInt32(registrations.count)
            generation = 0
            registrations.append(Registration(fd: -1, generation: 0, interest: [], callback: nil))
        }
        let id = RegistrationID(index: index, generation: generation)
        do {
            try System.epollControl(epollFD, EPOLL_CTL_ADD, fd: fd, events: interest.epollEvents, data: id.epollData)
        } catch {
            freeRegistrations.append(index)
            throw error
        }
        registrations[Int(index)] = Registration(fd: fd, generation: generation, interest: interest, callback: callback)
        liveRegistrations += 1
        return id
    }

    /// Changes what a registration is watched for. Throws `ENOENT` for a stale id, `EINVAL` for an
    /// ``Interest/exclusive`` registration (or a change to or from it).
    public func modify(_ id: RegistrationID, interest: Interest) throws(IOError) {
        assertOwner()
        try checkOpen("epoll_ctl")
        guard isLive(id) else { throw IOError(errno: ENOENT, function: "Reactor.modify") }
        if interest.contains(.exclusive) || registrations[Int(id.index)].interest.contains(.exclusive) {
            throw IOError(errno: EINVAL, function: "Reactor.modify")
        }
        let fd = registrations[Int(id.index)].fd
        try System.epollControl(epollFD, EPOLL_CTL_MOD, fd: fd, events: interest.epollEvents, data: id.epollData)
        registrations[Int(id.index)].interest = interest
    }

    /// The current interest of a live registration.
    public func interest(of id: RegistrationID) -> Interest? {
        isLive(id) ? registrations[Int(id.index)].interest : nil
    }

    /// Stops watching a descriptor and releases its callback. Idempotent: a stale id returns `false`.
    /// Call this *before* closing the descriptor (an already-closed fd is tolerated).
    @discardableResult
    public func deregister(_ id: RegistrationID) -> Bool {
        assertOwner()
        guard isLive(id) else { return false }
        let index = Int(id.index)
        let fd = registrations[index].fd
        if !isClosed {
            // EBADF/ENOENT mean the fd was closed already (closing removes it from epoll): fine.
            try? System.epollControl(epollFD, EPOLL_CTL_DEL, fd: fd, events: 0, data: 0)
        }
        let callback = registrations[index].callback
        registrations[index] = Registration(fd: -1, generation: id.generation &+ 1, interest: [], callback: nil)
        freeRegistrations.append(id.index)
        liveRegistrations -= 1
        _ = callback  // released after the slot is consistent, in case its deinit re-enters
        return true
    }

    /// Runs `callback` on the loop once `delay` has elapsed.
    @discardableResult
    public func schedule(after delay: Duration, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: clock.now() + delay, callback)
    }

    /// Runs `callback` on the loop once `milliseconds` have elapsed.
    @discardableResult
    public func schedule(afterMilliseconds milliseconds: UInt64, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: clock.now().advanced(byMilliseconds: milliseconds), callback)
    }

    /// Notifies `target` on the loop once `milliseconds` have elapsed (the timer holds it strongly until then).
    @discardableResult
    public func schedule(afterMilliseconds milliseconds: UInt64, target: any ReactorTimerTarget) -> TimerID {
        assertOwner()
        return timers.schedule(at: clock.now().advanced(byMilliseconds: milliseconds), .target(target))
    }

    /// Runs `callback` on the loop once the clock reaches `deadline`.
    @discardableResult
    public func schedule(at deadline: Deadline, _ callback: @escaping () -> Void) -> TimerID {
        assertOwner()
        return timers.schedule(at: deadline, .closure(callback))
    }

    /// Whether a timer is still pending (neither fired nor cancelled).
    public func isPending(_ id: TimerID) -> Bool {
        timers.contains(id)
    }

    /// Cancels a pending timer; `false` if it already fired or was cancelled.
    @discardableResult
    public func cancel(_ id: TimerID) -> Bool {
        assertOwner()
        return timers.cancel(id) != nil
    }

    /// Runs iterations until ``stop()`` is called (from a callback or another thread).
    public func run() throws(IOError) {
        claimOwnership()
        while !mailbox.consumeStopRequest() {
            _ = try iterate(timeoutMs: -1)
        }
    }

    /// Runs one iteration. `timeoutMs`: maximum wait (-1 = until an event, timer or task; 0 = poll).
    /// The wait is also bounded by the earliest timer. Returns the number of callbacks, timers and
    /// tasks run.
    @discardableResult
    public func runOnce(timeoutMs: Int32 = -1) throws(IOError) -> Int {
        claimOwnership()
        return try iterate(timeoutMs: timeoutMs)
    }

    /// Closes the epoll instance, drops all registrations, timers and queued tasks, and refuses further
    /// `execute` calls. Registered descriptors are not closed (their owners close them). Idempotent.
    public func close() {
        if isClosed { return }
        isClosed = true
        mailbox.close()
        try? System.close(epollFD)
        epollFD = -1
        let droppedRegistrations = registrations
        let droppedTimers = timers
        registrations = []
        freeRegistrations = []
        liveRegistrations = 0
        timers = TimerQueue()
        _ = (droppedRegistrations, droppedTimers)
    }

    // MARK: - Testing hooks

    /// Number of eventfd writes so far (shows wake-up coalescing).
    var wakeupWriteCount: Int { mailbox.writeCount }
    /// Whether the loop announced a blocking wait.
    var isSleeping: Bool { mailbox.isSleeping }

    // MARK: - Internals

    private func iterate(timeoutMs requested: Int32) throws(IOError) -> Int {
        try checkOpen("epoll_wait")
        var timeout = requested
        if let next = timers.nextDeadline {
            let remaining = clock.now().nanoseconds(until: next)
            // Round up so a timer never fires early.
            let ms = Int32(clamping: (remaining &+ 999_999) / 1_000_000)
            timeout = timeout < 0 ? ms : min(timeout, ms)
        }
        let (effective, markedSleeping) = mailbox.prepareToWait(timeoutMs: timeout)
        let count = try System.epollWait(epollFD, events: events, maxEvents: maxEvents, timeoutMs: effective)
        if markedSleeping { mailbox.finishedWaiting() }

        var work = 0
        for i in 0..<count {
            let event = events[i]
            let data = event.data.u64
            if data == Self.wakeupTag {
                mailbox.consumeWakeup()
                continue
            }
            let id = RegistrationID(epollData: data)
            guard isLive(id), let callback = registrations[Int(id.index)].callback else { continue }
            work += 1
            callback(ReadyEvents(epoll: event.events))
            if isClosed { return work }
        }

        if !timers.isEmpty {
            let now = clock.now()
            let limit = timers.nextSequence
            while let (_, callback) = timers.popDue(now: now, sequenceLimit: limit) {
                work += 1
                callback.run()
                if isClosed { return work }
            }
        }

        mailbox.takeTasks(into: &taskBatch)
        if !taskBatch.isEmpty {
            for task in taskBatch {
                work += 1
                task()
            }
            taskBatch.removeAll(keepingCapacity: true)
        }
        return work
    }

    @inline(__always)
    private func isLive(_ id: RegistrationID) -> Bool {
        let index = Int(id.index)
        return index < registrations.count
            && registrations[index].generation == id.generation
            && registrations[index].fd >= 0
    }

    private func checkOpen(_ function: String) throws(IOError) {
        if isClosed { throw IOError(errno: EBADF, function: function) }
    }

    private func claimOwnership() {
        if let owner {
            assert(pthread_equal(owner, pthread_self()) != 0, "Reactor used from a thread other than its loop thread")
        } else {
            owner = pthread_self()
        }
    }

    @inline(__always)
    private func assertOwner() {
        assert(owner == nil || pthread_equal(owner!, pthread_self()) != 0,
               "Reactor used from a thread other than its loop thread")
    }
}
