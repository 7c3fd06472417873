import DNSResolver
import Reactor

/// A location that may come later: the resolver's answer, delivered to the continuation set after
/// the lookup went out (or kept until one is set). Loop-thread only.
final class PendingLocation {
    private var result: SIPLocation?
    private var continuation: ((SIPLocation) -> Void)?
    /// The transport RFC 3263 chose for the targets when the URI named none (NAPTR or SRV): TCP or
    /// TLS; nil for UDP (a request then may still switch to TCP past `udp_mtu`). Set before delivery.
    var transport: SIPTransport?

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

    /// Runs `body` with the answer and the transport DNS chose when it comes.
    func whenDone(withTransport body: @escaping (SIPLocation, SIPTransport?) -> Void) {
        // Runs from `deliver` (self alive) or at once.
        whenDone { [unowned self] location in body(location, self.transport) }
    }
}

extension ProxyCore {
    /// Locates a host name with the worker's resolver (RFC 3263 over c-ares on the worker's reactor).
    /// A cached name answers before this returns (``PendingLocation/immediate``); otherwise the answer
    /// comes from a reactor callback of the same worker. Targets on the DNS blacklist go last.
    ///
    /// `transport`: the one the URI names (nil: none). NAPTR and SRV then choose among the transports
    /// the proxy has sockets for (RFC 3263 §4.1); the choice is ``PendingLocation/transport``.
    func locateNextHop(host: String, port: UInt16?, secure: Bool, transport: SIPTransport? = nil,
                       worker: WorkerContext) -> PendingLocation {
        let pending = PendingLocation()
        guard let resolver = DNSResolver.shared(for: worker.reactor, environment: settings.dns) else {
            pending.deliver(.failure(.malformed))
            return pending
        }
        let blacklist = settings.dns.blacklist
        let named = transport.flatMap { SIPLocatorTransport(rawValue: $0.rawValue) }
        SIPServerLocator(resolver: resolver).locate(host: host, port: port, secure: secure, transport: named,
                                                    supported: settings.locatorTransports) { location, chosen in
            pending.transport = chosen == .udp ? nil : SIPTransport(rawValue: chosen.rawValue)
            if case .targets(let targets) = location, !resolver.settings.disableBlacklist {
                pending.deliver(.targets(blacklist.preferringAllowed(targets)))
            } else {
                pending.deliver(location)
            }
        }
        return pending
    }
}
