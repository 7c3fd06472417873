/// xlog levels, numerically as in OpenSIPS (`log_level` compares against these).
public enum ScriptLogLevel: Int, Sendable, Comparable, CaseIterable {
    case alert = -3, critical = -2, error = -1, warning = 1, notice = 2, info = 3, debug = 4

    public static func < (a: ScriptLogLevel, b: ScriptLogLevel) -> Bool { a.rawValue < b.rawValue }

    /// Parses `L_ALERT` ... `L_DBG`.
    public init?(name: String) {
        switch name {
        case "L_ALERT": self = .alert
        case "L_CRIT": self = .critical
        case "L_ERR": self = .error
        case "L_WARN": self = .warning
        case "L_NOTICE": self = .notice
        case "L_INFO": self = .info
        case "L_DBG": self = .debug
        default: return nil
        }
    }
}

/// What a script log line is about, as plain strings the host turns into log metadata: the route
/// running and, when the route has a SIP message, its Call-ID, transaction branch, method and CSeq.
public struct ScriptLogContext: Sendable, Equatable {
    /// The route running: `request`, `route[name]`, `failure_route[name]`, `onreply_route`, ….
    public var route: String
    public var callID: String?
    /// The transaction's branch (the top Via branch of the request as received).
    public var branch: String?
    public var method: String?
    /// The CSeq number.
    public var cseq: String?

    public init(route: String, callID: String? = nil, branch: String? = nil, method: String? = nil,
                cseq: String? = nil) {
        self.route = route
        self.callID = callID
        self.branch = branch
        self.method = method
        self.cseq = cseq
    }
}

/// Destination of xlog output (and of the interpreter's own error lines).
public protocol ScriptLogger: Sendable {
    /// Writes one line; `context` says which route and message it concerns. Only called for levels
    /// the context's `logLevel` lets through, so the text and context are built only when needed.
    func log(_ level: ScriptLogLevel, _ message: String, context: ScriptLogContext)
    /// The most verbose level this logger would write, when it knows (a swift-log logger's level);
    /// nil to go by the script's `log_level`.
    var maximumLevel: ScriptLogLevel? { get }
}

extension ScriptLogger {
    public var maximumLevel: ScriptLogLevel? { nil }
}

/// Logger that discards everything.
public struct NullScriptLogger: ScriptLogger {
    public init() {}
    public func log(_ level: ScriptLogLevel, _ message: String, context: ScriptLogContext) {}
}
