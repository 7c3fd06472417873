import Reactor

/// One connection as the ``ConnectionPoolStateMachine`` sees it. It does not depend on the machine's
/// request type, so it is declared outside the generic machine: the drivers use the machine from other
/// modules, where its code runs unspecialized, and the per-request walks over the connections (the least
/// loaded one, one by id) then work on a concrete array instead of instantiating generic metadata on
/// every call (issue 19: CPU per backend call).
struct PoolConnection: Sendable {
    let id: PoolConnectionID
    var state: PoolConnectionState
    /// When its connect started (a failure of an attempt older than the last counted round is part
    /// of that round: ``ReconnectBackoff``).
    var openedAt: Deadline
    /// When a request last started or ended on it (an idle extra connection closes some time after).
    var lastUsed: Deadline
}

/// Where a pooled connection is.
enum PoolConnectionState: Equatable, Sendable {
    /// Connecting (and authenticating).
    case connecting
    /// Takes requests; `load` of them run on it.
    case ready(load: Int)
    /// Its request was abandoned; reading until idle (``ConnectionPoolPolicy/AbandonPolicy/drain(timeoutMs:)``).
    case draining

    /// What the state counts in the machine's running requests.
    var running: Int {
        switch self {
        case .ready(let load): load
        case .draining: 1
        case .connecting: 0
        }
    }
}

/// The pool as a whole.
enum PoolLifecycle: Equatable, Sendable {
    case running
    /// After shutdown: connections close, the queue fails, new requests fail.
    case shutDown
}

extension Array where Element == PoolConnection {
    /// The ready connection with the fewest of fewer than `maxRequests` requests (the first on a tie);
    /// the first `preferred` ready connections come before the others.
    func leastLoadedReady(maxRequests: Int, preferred: Int) -> Int? {
        var best: Int?
        var bestLoad = Int.max
        var bestExtra: Int?
        var bestExtraLoad = Int.max
        var rank = 0
        for index in indices {
            guard case .ready(let load) = self[index].state else { continue }
            defer { rank += 1 }
            guard load < maxRequests else { continue }
            if rank < preferred {
                if load < bestLoad { best = index; bestLoad = load }
            } else if load < bestExtraLoad {
                bestExtra = index
                bestExtraLoad = load
            }
        }
        return best ?? bestExtra
    }

    /// The position of connection `id`.
    func index(of id: PoolConnectionID) -> Int? {
        firstIndex { $0.id == id }
    }

    /// How many connections are in a state `predicate` accepts.
    func countStates(where predicate: (PoolConnectionState) -> Bool) -> Int {
        reduce(0) { $0 + (predicate($1.state) ? 1 : 0) }
    }
}
