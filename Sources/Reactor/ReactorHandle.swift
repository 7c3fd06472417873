/// The thread-safe face of a ``Reactor``: lets any thread enqueue work onto the loop, wake it, or stop
/// it. Cheap to copy; keeps the wake-up eventfd alive but not the reactor itself.
public struct ReactorHandle: Sendable {
    let mailbox: ReactorMailbox

    /// Runs `task` on the loop thread at the end of the current (or next) iteration.
    /// Returns `false` if the reactor was closed (the task is dropped).
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        mailbox.enqueue(task)
    }

    /// Interrupts a blocking `epoll_wait`. Coalesced: the eventfd is written only if the loop may be
    /// sleeping and no earlier wake-up is still pending.
    public func wakeup() {
        mailbox.wakeup()
    }

    /// Makes `Reactor.run()` return after the current iteration.
    public func stop() {
        mailbox.requestStop()
    }
}
