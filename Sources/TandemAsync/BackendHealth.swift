import Reactor
import Synchronization

/// Whether one backend (a database, an LDAP or HTTP server, an exec target) is reachable, shared by every
/// worker's connections to it, so that its loss and its recovery are each reported once for the whole
/// process however many workers notice (issue 14 item 6).
///
/// Drivers call ``lost(_:)`` when they cannot reach the backend (a connect failed and nothing else is
/// connected) and ``reachable()`` when they reach it again; each call is one relaxed load unless it
/// changes the state. Transitions are counted (`/stats` → `async.backends`) and handed to the registry's
/// reporter (the server logs them), at most one line per kind every ``BackendHealthRegistry/logInterval``
/// nanoseconds per backend; a flapping backend is still counted in full.
public final class BackendHealth: Sendable {
    /// What happened.
    public enum Event: Sendable, Equatable {
        /// The backend could not be reached; the reason the driver gave.
        case lost(reason: String)
        /// It is reachable again after a loss; `suppressed` transitions were not logged meanwhile.
        case recovered
    }

    /// The driver (`postgres`, `ldap`, `http`, `exec`).
    public let driver: String
    /// Where it is (host:port, URL without credentials, or command).
    public let address: String
    private let down = Atomic<Bool>(false)
    let losses = Atomic<Int>(0)
    let recoveries = Atomic<Int>(0)
    private let lostLog: LogGate
    private let recoveredLog: LogGate
    private let reporter: @Sendable (BackendHealth, Event) -> Void

    init(driver: String, address: String, logIntervalNanoseconds: UInt64,
         reporter: @escaping @Sendable (BackendHealth, Event) -> Void) {
        self.driver = driver
        self.address = address
        self.reporter = reporter
        lostLog = LogGate(intervalNanoseconds: logIntervalNanoseconds)
        recoveredLog = LogGate(intervalNanoseconds: logIntervalNanoseconds)
    }

    /// True while the backend is considered lost.
    public var isDown: Bool { down.load(ordering: .relaxed) }
    /// Losses since start.
    public var lossCount: Int { losses.load(ordering: .relaxed) }
    /// Recoveries since start.
    public var recoveryCount: Int { recoveries.load(ordering: .relaxed) }

    /// The backend cannot be reached (any thread).
    public func lost(_ reason: @autoclosure () -> String, now: UInt64 = System.monotonicNanoseconds()) {
        guard !down.load(ordering: .relaxed), down.compareExchange(expected: false, desired: true,
                                                                   ordering: .relaxed).exchanged else { return }
        losses.add(1, ordering: .relaxed)
        if lostLog.open(now: now) { reporter(self, .lost(reason: reason())) }
    }

    /// The backend answered (any thread).
    public func reachable(now: UInt64 = System.monotonicNanoseconds()) {
        guard down.load(ordering: .relaxed), down.compareExchange(expected: true, desired: false,
                                                                  ordering: .relaxed).exchanged else { return }
        recoveries.add(1, ordering: .relaxed)
        if recoveredLog.open(now: now) { reporter(self, .recovered) }
    }
}

/// One line per interval (first caller wins).
final class LogGate: Sendable {
    private let interval: UInt64
    private let next = Atomic<UInt64>(0)

    init(intervalNanoseconds: UInt64) { interval = intervalNanoseconds }

    func open(now: UInt64) -> Bool {
        let due = next.load(ordering: .relaxed)
        guard now >= due else { return false }
        return next.compareExchange(expected: due, desired: now + interval, ordering: .relaxed).exchanged
    }
}

/// The process's ``BackendHealth`` entries, one per driver and address, created on first use.
public final class BackendHealthRegistry: Sendable {
    /// Minimum time between two log lines of one kind for one backend (10 s).
    public static let logInterval: UInt64 = 10_000_000_000
    private let entries = Mutex<[String: BackendHealth]>([:])
    private let reporter = Mutex<(@Sendable (BackendHealth, BackendHealth.Event) -> Void)?>(nil)

    public init() {}

    /// Sets what receives the loss/recovery events (the server logs them). Call before traffic.
    public func setReporter(_ report: @escaping @Sendable (BackendHealth, BackendHealth.Event) -> Void) {
        reporter.withLock { $0 = report }
    }

    /// The entry for `driver` at `address` (the same object for every caller).
    public func health(driver: String, address: String) -> BackendHealth {
        entries.withLock { entries in
            let key = driver + "|" + address
            if let existing = entries[key] { return existing }
            let created = BackendHealth(driver: driver, address: address, logIntervalNanoseconds: Self.logInterval,
                                        reporter: { [weak self] health, event in
                                            self?.reporter.withLock { $0 }?(health, event)
                                        })
            entries[key] = created
            return created
        }
    }

    /// Every entry, by driver then address.
    public var all: [BackendHealth] {
        entries.withLock { Array($0.values) }.sorted { ($0.driver, $0.address) < ($1.driver, $1.address) }
    }
}
