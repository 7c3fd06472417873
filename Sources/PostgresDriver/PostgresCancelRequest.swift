import CLibPQ
import Reactor
import Synchronization

/// Sends a query cancel request for a connection without blocking the worker: `PQcancel` opens a new
/// connection to the server and waits for it, so it runs on a short-lived detached thread.
///
/// `@unchecked Sendable`: the `PGcancel` object is created on the loop thread, handed over once and then
/// only used (and freed) by the cancel thread; libpq documents `PQcancel` as safe from any thread.
struct PostgresCancelRequest: @unchecked Sendable {
    /// Set by the cancel thread once the request was sent (or given up): until then it may still reach the
    /// server, so the pool sends nothing else on the connection (the request would stop that instead).
    final class Progress: Sendable {
        private let done = Atomic<Bool>(false)
        /// Whether the request was sent (or given up).
        var isDone: Bool { done.load(ordering: .acquiring) }
        func finish() { done.store(true, ordering: .releasing) }
    }

    private let handle: OpaquePointer
    /// Watched by the loop thread.
    let progress = Progress()

    /// Prepares a cancel request for `connection` (loop thread); `nil` if libpq cannot make one.
    init?(connection: OpaquePointer) {
        guard let handle = PQgetCancel(connection) else { return nil }
        self.handle = handle
    }

    /// Sends the request on a detached thread and frees it there. Returns `false` if no thread could be
    /// started (the request is then sent inline: it is a loopback/LAN connect, normally sub-millisecond).
    @discardableResult
    func send() -> Bool {
        let request = self
        do {
            _ = try WorkerThread(name: "pg-cancel") { request.sendNow() }
            return true
        } catch {
            sendNow()
            return false
        }
    }

    private func sendNow() {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(handle, &buffer, Int32(buffer.count))
        PQfreeCancel(handle)
        progress.finish()
    }
}
