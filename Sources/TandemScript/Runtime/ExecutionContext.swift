/// Per-message execution state handed to `Script.run`: the message, the proxy, variables,
/// AVPs, return code and route parameters.
public struct ExecutionContext {
    public var message: any ScriptMessage
    public var proxy: any ScriptProxy
    public var logger: any ScriptLogger
    /// Cache shared by all workers for cache_store/cache_fetch/cache_remove.
    public var cache: LocalCache
    /// update_stat(name, delta) sink.
    public var stats: (@Sendable (String, Int) -> Void)?
    /// `$avp(...)` values; belong to the transaction.
    public var avps: AVPStore
    /// `$var(...)` values by compile-time slot.
    public var vars: [ScriptValue]
    /// `$rc` / `$retcode`.
    public var rc: Int = 1
    /// `$param(n)` values of the route being run (n = index + 1).
    public var params: [ScriptValue] = []
    /// Jobs started with `launch()` during this run; the host starts them after `run` returns.
    public var launches: [LaunchRequest] = []
    /// xlog messages above this level are discarded (from `log_level`).
    public var logLevel: ScriptLogLevel
    /// xlog() lines above this level are discarded (`xlog_level`, else `log_level`); `$xlog_level`
    /// changes it for this worker until set to NULL.
    public var xlogLevel: ScriptLogLevel
    /// The level of an xlog() given none (`xlog_print_level`, L_ERR by default).
    public let xlogPrintLevel: ScriptLogLevel
    /// `xlogLevel` as configured, for `$xlog_level = NULL`; `logLevel` likewise for `$log_level = NULL`.
    let configuredXlogLevel: ScriptLogLevel
    let configuredLogLevel: ScriptLogLevel
    /// Upper bound of iterations of a single `while` loop.
    public var maxWhileLoops: Int
    /// Statements executed so far (only counted by instrumented benchmark scripts).
    public internal(set) var statementCount: Int = 0
    /// The route running (the innermost one for `route(x)` calls); nil before the first run.
    public internal(set) var route: RouteID?
    /// Log names of the script's routes, by `RouteID.rawValue`.
    let routeLabels: [String]
    /// Names of the named flags by bit (`setflag(NAT)`), for `$mf`.
    let flagNames: [Int: String]
    var pendingAsync: AsyncRequest?
    var callDepth = 0
    /// Set when a `route(x)` called inside an expression ended with `exit`, `drop` or `async()`: the
    /// statement holding the expression stops the script with it, as `route(x);` would.
    var stoppedFlow: Flow?
    /// Whether a plain call of a transparently suspending function (`www_authorize`, …) may stop the
    /// route and continue it later at the call (the host sets it for request and failure routes that can
    /// have a transaction); when false such a call runs synchronously, blocking the worker.
    public var allowsSuspension = false
    /// The resume trail: pushed by the frames a transparent suspension unwinds, popped by the same
    /// frames when the route is resumed.
    var resumeMarks: [ResumeMark] = []
    /// True while ``Script/resume(_:context:)`` fast-forwards to the suspended call.
    var resuming = false
    /// The return code the suspended call delivers when the route continues.
    var resumeValue = 1

    /// Maps a numeric `log_level` to the highest xlog level that is printed.
    static func level(for value: Int) -> ScriptLogLevel {
        if let l = ScriptLogLevel(rawValue: value) { return l }
        if value > 4 { return .debug }
        if value == 0 { return .error }
        return .alert
    }

    /// Creates a context for one worker. Pass the `LocalCache` shared by all workers; AVPs start
    /// empty (assign `avps` from the transaction when resuming).
    public init(script: Script, message: any ScriptMessage, proxy: any ScriptProxy,
                logger: any ScriptLogger = NullScriptLogger(), cache: LocalCache = LocalCache(),
                stats: (@Sendable (String, Int) -> Void)? = nil) {
        self.message = message
        self.proxy = proxy
        self.logger = logger
        self.cache = cache
        self.stats = stats
        self.avps = AVPStore(count: script.avpNames.count)
        self.vars = Array(repeating: .null, count: script.varNames.count)
        self.logLevel = logger.maximumLevel ?? ExecutionContext.level(for: script.config.logLevel)
        if let x = script.config.xlogLevel {
            self.xlogLevel = min(ExecutionContext.level(for: x), logger.maximumLevel ?? .debug)
        } else {
            self.xlogLevel = self.logLevel
        }
        self.xlogPrintLevel = script.config.xlogPrintLevel.map { ExecutionContext.level(for: $0) } ?? .error
        self.configuredXlogLevel = self.xlogLevel
        self.configuredLogLevel = self.logLevel
        self.routeLabels = script.routeLabels
        var names: [Int: String] = [:]
        for (name, bit) in script.flagBits { names[bit] = name }
        self.flagNames = names
        self.maxWhileLoops = script.config.maxWhileLoops
    }

    /// Prepares the context for the next message on the same worker: clears `$var`s, AVPs,
    /// return code, params and launches, and takes the new message.
    public mutating func reset(message: any ScriptMessage) {
        self.message = message
        for i in vars.indices { vars[i] = .null }
        avps.reset()
        rc = 1
        params.removeAll(keepingCapacity: true)
        launches.removeAll(keepingCapacity: true)
        pendingAsync = nil
        callDepth = 0
        stoppedFlow = nil
        allowsSuspension = false
        // The trail is empty unless the last run suspended (or resumed) transparently.
        if !resumeMarks.isEmpty { resumeMarks.removeAll(keepingCapacity: true) }
    }

    /// A resume trail that does not match the compiled route (cannot happen unless the trail is used
    /// with another script): the route stops.
    mutating func lostTrail() -> Flow {
        resuming = false
        resumeMarks.removeAll()
        log(.error, "cannot continue the suspended route: its resume trail does not match the script")
        return .exit
    }

    /// `$mf`: the flags set, lowest bit first, by name when the script named them, space-separated.
    func flagList() -> String {
        let flags = message.flags
        guard flags != 0 else { return "" }
        var parts: [String] = []
        for bit in 0..<64 where flags & (1 << UInt64(bit)) != 0 { parts.append(flagNames[bit] ?? String(bit)) }
        return parts.joined(separator: " ")
    }

    /// The log name of the route running (`request`, `route[x]`, `failure_route[x]`, …).
    public var routeLabel: String {
        guard let route, route.rawValue >= 0, route.rawValue < routeLabels.count else { return "" }
        return routeLabels[route.rawValue]
    }

    /// What a log line written now concerns: the route and the message's Call-ID, branch, method, CSeq.
    public func logContext() -> ScriptLogContext {
        func text(_ value: ScriptValue) -> String? { value.isNull ? nil : value.stringValue }
        let method = message.method
        return ScriptLogContext(route: routeLabel,
                                callID: text(message.get(.callID, name: nil, index: nil)),
                                branch: message.transactionBranch,
                                method: method.isEmpty ? nil : method,
                                cseq: text(message.get(.cseq, name: nil, index: nil)))
    }

    /// Writes a log line if `level` passes `logLevel`; the text and context are only built then.
    public func log(_ level: ScriptLogLevel, _ text: @autoclosure () -> String) {
        guard level <= logLevel else { return }
        logger.log(level, text(), context: logContext())
    }
}
