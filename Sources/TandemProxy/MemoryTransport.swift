import Reactor
import Synchronization

/// A transport with no sockets, for driving ``ProxyCore`` in memory (tests): every datagram the core
/// sends is captured in order with its destination and listen socket; a destination marked
/// unreachable makes the send fail, as a socket error would.
///
/// The packet path only reaches it through ``WorkerTransport/memory(_:)``; the UDP path never
/// touches it.
public final class MemoryTransport: Sendable {
    /// One datagram the core sent.
    public struct Datagram: Sendable {
        /// The bytes as sent.
        public let bytes: [UInt8]
        /// Where they went.
        public let destination: SocketAddress
        /// The listen socket they were sent from (index into `ProxySettings.listen`).
        public let socketIndex: Int
    }

    private struct State {
        var sent: [Datagram] = []
        var refused: Set<SocketAddress> = []
    }

    private let state = Mutex(State())

    /// An empty transport.
    public init() {}

    /// Records a send; false (nothing captured) if `destination` is marked unreachable.
    func send(_ bytes: [UInt8], to destination: SocketAddress, socketIndex: Int) -> Bool {
        state.withLock { state in
            guard !state.refused.contains(destination) else { return false }
            state.sent.append(Datagram(bytes: bytes, destination: destination, socketIndex: socketIndex))
            return true
        }
    }

    /// Every datagram sent since the last ``take()``, in order; the capture is emptied.
    public func take() -> [Datagram] {
        state.withLock { state in
            let sent = state.sent
            state.sent = []
            return sent
        }
    }

    /// The number of datagrams captured and not yet taken.
    public var pendingCount: Int { state.withLock { $0.sent.count } }

    /// Makes sends to `destination` fail (`reachable: false`) or succeed again.
    public func setReachable(_ destination: SocketAddress, _ reachable: Bool) {
        state.withLock { state in
            if reachable { state.refused.remove(destination) } else { state.refused.insert(destination) }
        }
    }
}

/// How a worker sends: its UDP sockets (one per listen address), or an in-memory capture.
///
/// An enum rather than a protocol: the send path switches on it, with no existential and no allocation.
public enum WorkerTransport: Sendable {
    /// One socket per listen address, in `ProxySettings.listen` order.
    case udp([UDPSocket])
    /// Datagrams captured in memory (tests).
    case memory(MemoryTransport)
}
