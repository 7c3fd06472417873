import Synchronization
import Logging
import Reactor
import SIPCore
import SIPTransaction

/// The stateful proxy: takes datagrams from the workers, matches them to transactions, runs the
/// router for new requests, and implements the proxy operations the routing script calls.
///
/// Shared by all workers; its tables are sharded and every transaction has its own lock.
public final class ProxyCore: Sendable {
    /// Settings taken from the config.
    public let settings: ProxySettings
    /// Counters (parse errors, retransmissions, …).
    public let counters = ProxyCounters()
    let router: any RequestRouter
    let logger: Logger
    /// Server transactions by their key (ACK and CANCEL are looked up under the INVITE's key).
    let serverTable = KeyedObjectTable<ProxyTransaction>(shardCount: 256)
    /// Client branches by our branch id.
    let clientTable = ShardedTable<ClientKey, ProxyTransaction>(shardCount: 256)
    /// Branches that have heard nothing yet, by destination: an ICMP error for a destination fails
    /// them at once with 503 instead of waiting for Timer B/F.
    let silentBranches = SilentBranchTable()
    /// The stream connections of every worker (TCP), their table and counters.
    public let streams: StreamHub
    /// Host and port we put in Via and Record-Route, per listen socket.
    let advertised: [(host: String, port: UInt16)]
    /// Each listen address's IP text (no brackets) and port, for ``isMyself(host:port:)``.
    let listenTexts: [(ip: String, port: UInt16)]
    /// The Via sent-by and Record-Route URI text, per listen socket.
    let viaPrefix: [String]
    /// The Record-Route line of each listen socket (its value is what `record_route()` adds).
    let recordRouteLine: [PreparedHeaderLine]
    /// Salt for stateless to-tags.
    let tagSalt = UInt64.random(in: 1...UInt64.max)
    /// 0 while serving; once draining for shutdown, the Retry-After seconds of the 503 that new
    /// requests get (one relaxed load per routed request).
    let drainRetryAfter = Atomic<Int>(0)
    /// One "overloaded" warning per 10 s at most.
    let overloadLog = LogRateLimiter(seconds: 10)
    /// Worker 0's memory trim bookkeeping (``startMemoryTrim(on:)``).
    let memoryTrim = Mutex(MemoryTrimState())
    /// The location service (`save`/`lookup("location")`).
    public let location = LocationService()
    /// Set once the first `save` started the purge of expired contacts (a proxy that registers no one
    /// runs no such timer).
    let locationSweepStarted = Atomic<Bool>(false)

    public init(settings: ProxySettings, router: any RequestRouter, logger: Logger = Logger(label: "tandem.proxy")) {
        self.settings = settings
        self.router = router
        self.logger = logger
        self.streams = StreamHub(settings: settings.stream, tls: settings.tls)
        let sockets = settings.listen + settings.tcpListen + settings.tlsListen
        let advertised = sockets.map { (host: $0.family == .ipv6 ? "[\($0.ip)]" : $0.ip, port: $0.port) }
        self.advertised = advertised
        self.listenTexts = sockets.map { (ip: $0.ip, port: $0.port) }
        self.viaPrefix = advertised.indices.map { index in
            "SIP/2.0/\(settings.transport(at: index).viaToken) \(advertised[index].host):\(advertised[index].port);branch="
        }
        self.recordRouteLine = advertised.indices.map { index in
            let transport = settings.transport(at: index)
            return PreparedHeaderLine(.recordRoute, "<sip:\(advertised[index].host):\(advertised[index].port)\(transport == .udp ? "" : ";transport=\(transport.rawValue)");lr>")
        }
    }

    /// Number of live server transactions.
    public var transactionCount: Int { serverTable.count }

    /// Number of live client transactions (branches and CANCELs).
    public var clientTransactionCount: Int { clientTable.count }

    /// Entry point for every datagram a worker receives on listen socket `socketIndex` (and every
    /// message framed on a stream connection, with the stream's `maxSize`).
    public func handleDatagram(_ bytes: [UInt8], from source: SocketAddress, socketIndex: Int, worker: WorkerContext,
                               maxSize: Int? = nil) {
        counters.datagramsReceived.add(1, ordering: .relaxed)
        let message: SIPMessage
        do {
            message = try SIPMessage(parsing: bytes, maxSize: maxSize ?? settings.maxDatagramSize)
        } catch {
            counters.parseErrors.add(1, ordering: .relaxed)
            if error.shouldReply400, var partial = SIPMessage.partialRequest(parsing: bytes), partial.method != .ack {
                Self.stampTopVia(&partial, source: source)
                logger.info("rejecting malformed request", metadata: Self.badInputMetadata(partial, error, source))
                replyToMalformed(partial, error: error, source: source, socketIndex: socketIndex, worker: worker)
            } else {
                logger.debug("dropping unparsable datagram", metadata: [
                    LogMetadataKey.peer: "\(source)", LogMetadataKey.error: "\(error.reason)",
                ])
            }
            return
        }
        if message.isRequest {
            handleRequest(consume message, from: source, socketIndex: socketIndex, worker: worker)
        } else {
            handleResponse(message, from: source, worker: worker)
        }
    }

    /// True if `host`/`port` name this proxy (a listen address or an alias; no port means 5060).
    public func isMyself(host: String, port: UInt16?) -> Bool {
        var h = Substring(host)
        if h.hasPrefix("["), h.hasSuffix("]") { h = h.dropFirst().dropLast() }
        let p = port ?? 5060
        // A listen address's own text (the Record-Route and Via we wrote, nearly always) names it: its
        // text parses back to it, so the full check below would say so too, after parsing the host.
        for listen in listenTexts where listen.port == p && h.utf8.elementsEqual(listen.ip.utf8) { return true }
        return isMyselfParsing(h, port: p)
    }

    /// ``isMyself(host:port:)`` without its look-up of the listen addresses' texts: `host` (no brackets)
    /// parsed as an IP address and compared with each, then the aliases. Internal for the tests that
    /// check the look-up against it.
    func isMyselfParsing(_ h: Substring, port p: UInt16) -> Bool {
        // A listen address's text (inet_ntop) always parses back to it, so only an IP literal can name
        // one: compared as an address, without formatting each listen address (an IPv6 one also by its
        // text, which ignores a scope id as before). A name can only be an alias.
        if let literal = SocketAddress(ip: String(h), port: p) {
            func matches(_ address: SocketAddress) -> Bool {
                address.port == p && (address == literal || (address.family == .ipv6 && address.ip == h))
            }
            if settings.listen.contains(where: matches) || settings.tcpListen.contains(where: matches)
                || settings.tlsListen.contains(where: matches) {
                return true
            }
        }
        return settings.aliases.contains { $0.lowercased() == h.lowercased() }
    }

    /// The local address of listen socket `socketIndex`.
    public func socketAddress(at socketIndex: Int) -> SocketAddress? { settings.socketAddress(at: socketIndex) }

    /// True if `uri` names this proxy.
    public func isMyself(uri: SIPURI) -> Bool {
        isMyself(host: String(uri.bareHost), port: uri.port)
    }

    /// A to-tag for replies generated statelessly, the same for retransmissions of one request.
    func statelessTag(for request: SIPMessage) -> String {
        Self.tagText(statelessTagNumber(callID: request.firstValueBytes(.callID), branch: try? request.topViaBranch()))
    }

    /// The number ``statelessTag(for:)`` writes (a transaction keeps its tag so), from the bytes of the
    /// request's Call-ID (no text made of it; none counts as empty) and its top Via branch.
    func statelessTagNumber(callID: ArraySlice<UInt8>?, branch: String?) -> UInt64 {
        var h = Hasher()
        h.combine(tagSalt)
        let callID = callID ?? []
        h.combine(callID.count)
        callID.withUnsafeBytes { h.combine(bytes: $0) }
        h.combine(branch ?? "")
        return UInt64(bitPattern: Int64(h.finalize()))
    }

    /// `String(value, radix: 36)` (lower-case digits), without the generic integer formatting.
    static func base36(_ value: UInt64) -> String {
        if value == 0 { return "0" }
        var digits: [UInt8] = []
        digits.reserveCapacity(13)
        var v = value
        while v > 0 {
            let d = UInt8(v % 36)
            digits.append(d < 10 ? 48 + d : 87 + d)
            v /= 36
        }
        digits.reverse()
        return String(decoding: digits, as: UTF8.self)
    }

    /// A tag number as the tag's text (base 36).
    static func tagText(_ number: UInt64) -> String { base36(number) }
}
