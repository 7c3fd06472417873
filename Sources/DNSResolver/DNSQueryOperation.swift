import Reactor
import TandemAsync

/// `dns_query(name, type, $out)` as an async operation (driver `"dns"`).
///
/// - native: the question goes to the worker's ``DNSResolver`` (cache, in-flight join, c-ares on the
///   reactor); ``cancel()`` only drops the answer (the query itself is shared).
/// - blocking (`offload`/`sync`, and calls outside `async()`): the cache, else a private c-ares channel
///   waiting in `select` on the calling thread, bounded by the call's timeout.
///
/// Result: rc = number of records (output `"records"`: a list of texts — an address for A/AAAA,
/// `"priority weight port target"` for SRV, `"order preference flags service regexp replacement"` for
/// NAPTR), -2 NXDOMAIN/NODATA, -3 timeout, -1 another failure.
public final class DNSQueryOperation: AsyncOperation {
    public let driver = "dns"
    public let supportedPaths: AsyncPaths = .all
    /// The question.
    public let question: DNSQuestion
    /// Resolver settings, cache and counters.
    public let environment: DNSEnvironment
    private var cancelled = false

    public init(question: DNSQuestion, environment: DNSEnvironment) {
        self.question = question
        self.environment = environment
    }

    /// The record type named `text` (`A`, `AAAA`, `SRV`, `NAPTR`; any case), nil otherwise.
    public static func recordType(_ text: String) -> DNSRecordType? {
        switch text.uppercased() {
        case "A": .a
        case "AAAA": .aaaa
        case "SRV": .srv
        case "NAPTR": .naptr
        default: nil
        }
    }

    public func start(_ context: NativeContext) {
        guard let resolver = DNSResolver.shared(for: context.reactor, environment: environment) else {
            context.complete(.failure)
            return
        }
        resolver.resolve(question) { [self] answer in
            guard !cancelled else { return }
            context.complete(Self.result(answer))
        }
    }

    public func cancel() { cancelled = true }

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let question = question, environment = environment
        return {
            let now = System.monotonicNanoseconds()
            if let cached = environment.cache.lookup(question, now: now) { return Self.result(cached) }
            environment.statistics.add(.queries)
            let answer = AresBlockingQuery.run(question, settings: environment.settings, timeoutMs: timeoutMs)
            environment.cache.store(question, answer, now: System.monotonicNanoseconds())
            return Self.result(answer)
        }
    }

    /// The script's view of an answer.
    static func result(_ answer: DNSAnswer) -> AsyncResult {
        switch answer {
        case .records(let records, _):
            return AsyncResult(rc: records.count, outputs: [AsyncOutput("records", .list(records.map { text($0) }))])
        case .negative: return AsyncResult(rc: AsyncResult.rcNotFound)
        case .failure(.timeout): return AsyncResult(rc: AsyncResult.rcTimeout)
        case .failure: return .failure
        }
    }

    static func text(_ record: DNSRecord) -> String {
        switch record {
        case .address(let address): address.ip
        case .srv(let s): "\(s.priority) \(s.weight) \(s.port) \(s.target)"
        case .naptr(let n): "\(n.order) \(n.preference) \(n.flags) \(n.service) \(n.regexp) \(n.replacement)"
        }
    }
}
