import TandemProxy

/// Why a graceful shutdown did not end with every transaction finished; `tandem run` exits 1 on it.
public enum TandemShutdownError: Error, CustomStringConvertible {
    /// The drain time ran out with transactions still outstanding.
    case drainTimedOut(abandoned: DrainProgress)
    /// Another shutdown signal arrived while draining: stopped at once.
    case interrupted(signal: String, abandoned: DrainProgress)
    /// The service was cancelled (its ServiceGroup gave up waiting): stopped at once.
    case cancelled(abandoned: DrainProgress)

    /// What was still outstanding when the proxy stopped.
    public var abandoned: DrainProgress {
        switch self {
        case .drainTimedOut(let progress), .interrupted(_, let progress), .cancelled(let progress): progress
        }
    }

    public var description: String {
        switch self {
        case .drainTimedOut(let progress): "drain time ran out; abandoned \(progress.outstanding) transactions (\(progress))"
        case .interrupted(let signal, let progress):
            "\(signal) while draining; abandoned \(progress.outstanding) transactions (\(progress))"
        case .cancelled(let progress): "cancelled while draining; abandoned \(progress.outstanding) transactions (\(progress))"
        }
    }
}
