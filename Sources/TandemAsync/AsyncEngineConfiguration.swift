/// Settings of an ``AsyncEngine`` (from the script's global parameters).
public struct AsyncEngineConfiguration: Sendable {
    /// Timeout applied when `async()` gives none (`async_timeout`, ms). Nothing waits forever.
    public var defaultTimeoutMs: UInt64
    /// Per-driver execution mode; drivers not listed use their preferred path (native if supported).
    public var modes: [String: AsyncMode]
    /// Offload pool limits and queue bounds.
    public var offload: OffloadPool.Configuration

    /// Creates a configuration.
    public init(defaultTimeoutMs: UInt64 = 30_000, modes: [String: AsyncMode] = [:],
                offload: OffloadPool.Configuration = OffloadPool.Configuration()) {
        self.defaultTimeoutMs = defaultTimeoutMs
        self.modes = modes
        self.offload = offload
    }
}
