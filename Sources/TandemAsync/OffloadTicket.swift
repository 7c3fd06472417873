import Synchronization

/// One blocking job handed to the ``OffloadPool``. Its state moves once out of `pending`: either an
/// offload thread claims it (`running`) or the owner abandons it (timeout/cancel before it ran: it is
/// then skipped and never runs).
public final class OffloadTicket: Sendable {
    private static let pending: UInt8 = 0
    private static let running: UInt8 = 1
    private static let abandoned: UInt8 = 2

    private let state = Atomic<UInt8>(OffloadTicket.pending)
    let body: @Sendable () -> AsyncResult
    let deliver: @Sendable (AsyncResult) -> Void

    init(body: @escaping @Sendable () -> AsyncResult, deliver: @escaping @Sendable (AsyncResult) -> Void) {
        self.body = body
        self.deliver = deliver
    }

    /// Offload thread: take the job; `false` if it was abandoned.
    func claim() -> Bool {
        state.compareExchange(expected: Self.pending, desired: Self.running, ordering: .acquiringAndReleasing).exchanged
    }

    /// Owner: give up on the job. `true` if it had not started (it never will); `false` if it is
    /// running already (its result will arrive late and be dropped).
    @discardableResult
    func abandon() -> Bool {
        state.compareExchange(expected: Self.pending, desired: Self.abandoned, ordering: .acquiringAndReleasing).exchanged
    }

    /// Whether an offload thread took the job.
    public var hasStarted: Bool { state.load(ordering: .acquiring) == Self.running }
}
