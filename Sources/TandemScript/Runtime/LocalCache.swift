import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// In-memory key/value cache with expiry (cache_store/cache_fetch/cache_remove), shared by workers.
public final class LocalCache: Sendable {
    private struct Entry {
        var value: String
        /// Absolute expiry in clock seconds; 0 = never.
        var expires: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let clock: @Sendable () -> Int64

    /// `clock` returns the current time in seconds (injectable for tests).
    public init(clock: @escaping @Sendable () -> Int64 = LocalCache.monotonicSeconds) {
        self.clock = clock
    }

    public static let monotonicSeconds: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec)
    }

    private static func key(_ collection: String, _ key: String) -> String { collection + "\u{0}" + key }

    /// Stores a value; `expire` seconds (0 = no expiry).
    public func store(collection: String = "", key: String, value: String, expire: Int = 0) {
        let exp = expire > 0 ? clock() + Int64(expire) : 0
        let k = LocalCache.key(collection, key)
        entries.withLock { $0[k] = Entry(value: value, expires: exp) }
    }

    /// Fetches a live value.
    public func fetch(collection: String = "", key: String) -> String? {
        let now = clock()
        let k = LocalCache.key(collection, key)
        return entries.withLock { d -> String? in
            guard let e = d[k] else { return nil }
            if e.expires != 0 && e.expires <= now { d[k] = nil; return nil }
            return e.value
        }
    }

    /// Removes a value; returns whether it existed.
    @discardableResult
    public func remove(collection: String = "", key: String) -> Bool {
        let k = LocalCache.key(collection, key)
        return entries.withLock { $0.removeValue(forKey: k) != nil }
    }

    /// Drops expired entries (call periodically).
    public func purgeExpired() {
        let now = clock()
        entries.withLock { d in d = d.filter { $0.value.expires == 0 || $0.value.expires > now } }
    }

    public var count: Int { entries.withLock { $0.count } }
}
