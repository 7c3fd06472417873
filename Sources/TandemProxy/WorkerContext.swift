import Synchronization
import Reactor

/// What the packet path needs from the worker it runs on: its reactor (for timers) and its sockets
/// (to send). Passed down explicitly.
///
/// `@unchecked Sendable`: it may be captured by closures handed to its own reactor (timers,
/// completions posted with `execute`), but it is only ever used on its worker's thread.
public final class WorkerContext: @unchecked Sendable {
    /// The worker number (0-based).
    public let index: Int
    /// The worker's reactor.
    public let reactor: Reactor
    /// One socket per listen address, in `ProxySettings.listen` order.
    let sockets: [UDPSocket]
    let counters: ProxyCounters

    init(index: Int, reactor: Reactor, sockets: [UDPSocket], counters: ProxyCounters) {
        self.index = index
        self.reactor = reactor
        self.sockets = sockets
        self.counters = counters
    }

    /// Sends one datagram from listen socket `socketIndex`. Returns false if it could not be sent.
    @discardableResult
    func send(_ bytes: [UInt8], to address: SocketAddress, socketIndex: Int = 0) -> Bool {
        let socket = sockets[socketIndex < sockets.count ? socketIndex : 0]
        do {
            switch try socket.send(bytes, to: address) {
            case .processed: return true
            case .wouldBlock:
                counters.sendErrors.add(1, ordering: .relaxed)
                return false
            }
        } catch {
            counters.sendErrors.add(1, ordering: .relaxed)
            return false
        }
    }
}
