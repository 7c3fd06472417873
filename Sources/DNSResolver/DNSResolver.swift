import CAres
import Reactor

/// A worker's DNS resolver: answers from the shared ``DNSCache`` at once, otherwise asks the name
/// servers through the worker's c-ares channel (never blocking the worker) and stores the answer.
/// Questions already in flight are joined, not sent again, on this worker (a local list) and across
/// workers (through the cache's in-flight entry, one joiner per worker): any number of requests for
/// one name, from any number of workers, cost one query. A worker that joined another's query gets
/// the answer through its reactor's mailbox and completes its own requests on its own thread.
///
/// Loop-thread only (not `Sendable`). ``shared(for:)`` gives a reactor's instance.
public final class DNSResolver {
    /// The settings the channel was built with.
    public let settings: DNSSettings
    /// The cache shared by every worker.
    public let cache: DNSCache
    /// Counters shared by every worker.
    public let statistics: DNSStatistics
    private let channel: AresChannel
    private let now: () -> UInt64
    private let hosts: [String: [SocketAddress]]
    private var inFlight: [DNSQuestion: [(DNSAnswer) -> Void]] = [:]
    private let handle: ReactorHandle
    private lazy var ref = DNSResolverRef(self)

    /// Creates the resolver of `reactor` (on its loop thread). `now` gives monotonic nanoseconds for
    /// cache expiry. Nil if c-ares cannot be set up with `settings` (a bad `dns_servers`).
    /// `hosts` (from ``HostsFile``) answers A/AAAA questions before DNS.
    public init?(reactor: Reactor, settings: DNSSettings, cache: DNSCache, statistics: DNSStatistics,
                 hosts: [String: [SocketAddress]] = [:],
                 now: @escaping () -> UInt64 = { System.monotonicNanoseconds() }) {
        guard let channel = AresChannel(reactor: reactor, settings: settings, statistics: statistics) else { return nil }
        self.channel = channel
        self.handle = reactor.handle
        self.settings = settings
        self.cache = cache
        self.statistics = statistics
        self.now = now
        self.hosts = hosts
    }

    /// Questions waiting for a name server on this worker.
    public var inFlightCount: Int { inFlight.count }

    /// The cached answer to `question`, or nil (counts a hit, not a miss).
    public func cached(_ question: DNSQuestion) -> DNSAnswer? {
        guard let answer = cache.lookup(question, now: now()) else { return nil }
        if case .negative = answer { statistics.add(.negativeHits) } else { statistics.add(.cacheHits) }
        return answer
    }

    /// Answers `question`: from the cache before returning (the completion runs inside this call),
    /// else once the name server answers or times out (from a reactor callback).
    public func resolve(_ question: DNSQuestion, _ completion: @escaping (DNSAnswer) -> Void) {
        if question.type == .a || question.type == .aaaa, let listed = hosts[question.name] {
            let family: SocketAddress.Family = question.type == .a ? .ipv4 : .ipv6
            let matching = listed.filter { $0.family == family }.map { DNSRecord.address($0) }
            completion(matching.isEmpty ? .negative(nxdomain: false, ttl: 0) : .records(matching, ttl: 0))
            return
        }
        if let answer = cached(question) { completion(answer); return }
        if inFlight[question] != nil {
            inFlight[question]!.append(completion)
            statistics.add(.cacheMisses)
            statistics.add(.joined)
            return
        }
        let handle = handle, ref = ref
        let begin = cache.begin(question, now: now()) { answer in
            handle.execute { ref.resolver?.deliver(question, answer) }
        }
        switch begin {
        case .cached(let answer):
            // Answered by another worker between the lookup above and here: a hit after all.
            if case .negative = answer { statistics.add(.negativeHits) } else { statistics.add(.cacheHits) }
            completion(answer)
        case .joined:
            inFlight[question] = [completion]
            statistics.add(.cacheMisses)
            statistics.add(.joined)
        case .owner(let token):
            inFlight[question] = [completion]
            statistics.add(.cacheMisses)
            statistics.add(.queries)
            channel.query(question, search: settings.useSearchList) { [weak self] status, reply in
                self?.finish(question, token: token, status: status, reply: reply)
            }
        }
    }

    /// Cancels every question (their completions get ``DNSFailure/cancelled``) and closes the channel.
    public func close() { channel.close() }

    private func finish(_ question: DNSQuestion, token: UInt64, status: Int32, reply: [UInt8]?) {
        let answer = interpret(question, status: status, reply: reply)
        let joiners = cache.complete(question, token: token, answer: answer, now: now())
        for joiner in joiners { joiner(answer) }
        deliver(question, answer)
    }

    /// Completes this worker's requests for `question` (loop thread).
    fileprivate func deliver(_ question: DNSQuestion, _ answer: DNSAnswer) {
        let waiters = inFlight.removeValue(forKey: question) ?? []
        for waiter in waiters { waiter(answer) }
    }

    private func interpret(_ question: DNSQuestion, status: Int32, reply: [UInt8]?) -> DNSAnswer {
        let answer = Self.answer(to: question, status: status, reply: reply, settings: settings)
        switch answer {
        case .failure(.timeout): statistics.add(.timeouts)
        case .failure(.serverError), .failure(.malformed): statistics.add(.serverErrors)
        default: break
        }
        return answer
    }

    /// The answer a c-ares status and reply give for `question`.
    static func answer(to question: DNSQuestion, status: Int32, reply: [UInt8]?, settings: DNSSettings) -> DNSAnswer {
        if let reply, status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA {
            return DNSMessageParser.parse(reply, type: question.type, defaultNegativeTTL: settings.defaultNegativeTTL,
                                          maxNegativeTTL: settings.maxNegativeTTL)
        }
        let negativeTTL = min(settings.defaultNegativeTTL, settings.maxNegativeTTL)
        switch status {
        case ARES_ENOTFOUND: return .negative(nxdomain: true, ttl: negativeTTL)
        case ARES_ENODATA: return .negative(nxdomain: false, ttl: negativeTTL)
        case ARES_ETIMEOUT: return .failure(.timeout)
        case ARES_EDESTRUCTION, ARES_ECANCELLED: return .failure(.cancelled)
        case ARES_ESERVFAIL, ARES_EREFUSED, ARES_ECONNREFUSED: return .failure(.serverError)
        default: return .failure(.malformed)
        }
    }
}

/// A weak reference to a worker's ``DNSResolver`` that a joiner can carry to another thread.
///
/// `@unchecked Sendable`: ``resolver`` is only read inside a task executed on the resolver's own reactor.
private final class DNSResolverRef: @unchecked Sendable {
    weak var resolver: DNSResolver?
    init(_ resolver: DNSResolver) { self.resolver = resolver }
}
