import Reactor
import SIPCore
import SIPTransaction
import TandemProxy

/// A ``ProxyCore`` driven in memory for one test: no sockets, no sleeping.
///
/// Datagrams are injected with ``receive(_:from:socketIndex:)`` as if a worker had read them; what the
/// core sends is captured by a ``MemoryTransport`` and read with ``sent()``. The transaction timers run on
/// a reactor whose clock is a ``ManualClock``: ``advance(byMilliseconds:)`` moves the time from one timer
/// to the next, firing each at its own deadline. Use it from one thread (the test's).
public final class InMemoryProxy {
    /// The proxy's clock; only ``advance(byMilliseconds:)`` moves it.
    public let clock: ManualClock
    /// The worker's reactor (timers and tasks; no socket is registered).
    public let reactor: Reactor
    /// The captured datagrams.
    public let transport: MemoryTransport
    /// The core under test.
    public let core: ProxyCore
    /// The one in-memory worker.
    public let worker: WorkerContext
    /// The proxy's listen address (as advertised in Via and Record-Route; nothing is bound).
    public let address: SocketAddress

    /// A core with `router`, listening (nominally) on `address`.
    public init(router: any RequestRouter, timers: TimerSettings = .standard,
                address: SocketAddress = SocketAddress(ip: "127.0.0.1", port: 5060)!,
                maxTransactions: Int = ProxySettings.defaultMaxTransactions) throws(IOError) {
        clock = ManualClock()
        reactor = try Reactor(clock: clock)
        transport = MemoryTransport()
        self.address = address
        let settings = ProxySettings(listen: [address], workers: 1, timers: timers, maxTransactions: maxTransactions)
        core = ProxyCore(settings: settings, router: router)
        worker = WorkerContext(index: 0, reactor: reactor, memory: transport, core: core)
    }

    /// Drives an existing `core` (one built by a `TandemServer` from a script, say) as its worker 0; its
    /// first listen address is the proxy's address.
    public init(core: ProxyCore) throws(IOError) {
        clock = ManualClock()
        reactor = try Reactor(clock: clock)
        transport = MemoryTransport()
        address = core.settings.listen.first ?? SocketAddress(ip: "127.0.0.1", port: 5060)!
        self.core = core
        worker = WorkerContext(index: 0, reactor: reactor, memory: transport, core: core)
    }

    deinit { reactor.close() }

    /// Hands `bytes` to the core as a datagram from `source`, then runs whatever became due (tasks,
    /// 0 ms timers) without moving the clock.
    public func receive(_ bytes: [UInt8], from source: SocketAddress, socketIndex: Int = 0) {
        core.handleDatagram(bytes, from: source, socketIndex: socketIndex, worker: worker)
        runDue()
    }

    /// Runs the timers that are due and the queued tasks, without moving the clock.
    public func runDue() {
        for _ in 0..<10_000 {
            guard let work = try? reactor.runOnce(timeoutMs: 0), work > 0 else { return }
        }
    }

    /// Moves the clock forward by `milliseconds`, stopping at each timer's deadline on the way to fire it.
    public func advance(byMilliseconds milliseconds: UInt64) {
        let target = clock.now().advanced(byMilliseconds: milliseconds)
        runDue()
        while let next = reactor.nextTimerDeadline, next <= target {
            if next > clock.now() { clock.set(to: next) }
            runDue()
        }
        clock.set(to: target)
        runDue()
    }

    /// The datagrams sent since the last call, in order, parsed (unparsable ones are skipped).
    public func sent() -> [SentMessage] {
        transport.take().compactMap { datagram in
            (try? SIPMessage(parsing: datagram.bytes)).map {
                SentMessage(message: $0, destination: datagram.destination, bytes: datagram.bytes)
            }
        }
    }
}

/// One message the in-memory core sent.
public struct SentMessage {
    /// The message, parsed.
    public let message: SIPMessage
    /// Where it went.
    public let destination: SocketAddress
    /// The bytes as sent.
    public let bytes: [UInt8]

    /// The status code of a response (nil for a request).
    public var status: Int? { message.statusCode }
    /// The method of a request, or of the CSeq of a response.
    public var method: SIPMethod? { message.method ?? (try? message.cseq())?.method }
}
