import DNSResolver
import Reactor

/// A location that may come later: the resolver's answer, delivered to the continuation set after
/// the lookup went out (or kept until one is set). Loop-thread only.
final class PendingLocation {
    private var result: SIPLocation?
    private var continuation: ((SIPLocation) -> Void)?

    /// The answer, if it came already (a cached name answers inside the call).
    var immediate: SIPLocation? { result }

    func deliver(_ location: SIPLocation) {
        if let continuation {
            self.continuation = nil
            continuation(location)
        } else {
            result = location
        }
    }

    /// Runs `body` with the answer when it comes (at once if it already came).
    func whenDone(_ body: @escaping (SIPLocation) -> Void) {
        if let result {
            body(result)
        } else if let first = continuation {
            continuation = { first($0); body($0) }  // every waiter runs, in order
        } else {
            continuation = body
        }
    }
}

extension ProxyCore {
    /// Locates a host name with the worker's resolver (RFC 3263 over c-ares on the worker's reactor).
    /// A cached name answers before this returns (``PendingLocation/immediate``); otherwise the answer
    /// comes from a reactor callback of the same worker. Targets on the DNS blacklist go last.
    func locateNextHop(host: String, port: UInt16?, secure: Bool, worker: WorkerContext) -> PendingLocation {
        let pending = PendingLocation()
        guard let resolver = DNSResolver.shared(for: worker.reactor, environment: settings.dns) else {
            pending.deliver(.failure(.malformed))
            return pending
        }
        let blacklist = settings.dns.blacklist
        SIPServerLocator(resolver: resolver).locate(host: host, port: port, secure: secure) { location in
            if case .targets(let targets) = location, !resolver.settings.disableBlacklist {
                pending.deliver(.targets(blacklist.preferringAllowed(targets)))
            } else {
                pending.deliver(location)
            }
        }
        return pending
    }
}
