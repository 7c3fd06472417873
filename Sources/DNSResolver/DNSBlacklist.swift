import Reactor
import Synchronization

/// Next-hop addresses that failed recently (408 with no reply, 503, ICMP unreachable), avoided for
/// ``period`` seconds: the locator puts them after the others (never drops them, so a request still
/// goes somewhere when every target is listed). Off with `disable_dns_blacklist`. Shared by every worker
/// (one per ``DNSEnvironment``).
public final class DNSBlacklist: Sendable {
    /// How long a failed address is avoided.
    public let periodNanoseconds: UInt64
    private let entries = Mutex<[SocketAddress: UInt64]>([:])

    public init(periodSeconds: UInt64 = 60) { periodNanoseconds = periodSeconds * 1_000_000_000 }

    /// Lists `address` until `now` + the period.
    public func add(_ address: SocketAddress, now: UInt64 = System.monotonicNanoseconds()) {
        let until = now + periodNanoseconds
        entries.withLock { entries in
            if entries.count > 10_000 { entries = entries.filter { $0.value > now } }
            entries[address] = until
        }
    }

    /// True while `address` is listed.
    public func contains(_ address: SocketAddress, now: UInt64 = System.monotonicNanoseconds()) -> Bool {
        entries.withLock { ($0[address] ?? 0) > now }
    }

    /// `targets` with the listed ones moved to the end (order otherwise kept).
    public func preferringAllowed(_ targets: [SocketAddress], now: UInt64 = System.monotonicNanoseconds()) -> [SocketAddress] {
        entries.withLock { entries in
            if entries.isEmpty { return targets }
            let listed = targets.filter { (entries[$0] ?? 0) > now }
            if listed.isEmpty { return targets }
            return targets.filter { (entries[$0] ?? 0) <= now } + listed
        }
    }

    /// The live entries: address and seconds left, for `/stats`.
    public func snapshot(now: UInt64 = System.monotonicNanoseconds()) -> [(String, Int)] {
        entries.withLock { entries in
            entries.filter { $0.value > now }.map { ("\($0.key)", Int(($0.value - now) / 1_000_000_000)) }
                .sorted { $0.0 < $1.0 }
        }
    }

    /// Forgets every entry.
    public func removeAll() { entries.withLock { $0.removeAll() } }
}
