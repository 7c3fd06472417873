import Synchronization

/// The script's own counters (`update_stat("name", delta)`), shared by all workers.
public final class ScriptStatistics: Sendable {
    private let values = Mutex<[String: Int]>([:])

    public init() {}

    /// Adds `delta` to counter `name` (created at 0).
    public func update(_ name: String, by delta: Int) {
        values.withLock { $0[name, default: 0] += delta }
    }

    /// All counters, sorted by name.
    public func snapshot() -> [(name: String, value: Int)] {
        values.withLock { $0.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) } }
    }

    /// The value of one counter (0 if never updated).
    public func value(of name: String) -> Int { values.withLock { $0[name] ?? 0 } }
}
