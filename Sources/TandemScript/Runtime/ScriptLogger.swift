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

/// Destination of xlog output.
public protocol ScriptLogger: Sendable {
    func log(_ level: ScriptLogLevel, _ message: String)
}

/// Logger that discards everything.
public struct NullScriptLogger: ScriptLogger {
    public init() {}
    public func log(_ level: ScriptLogLevel, _ message: String) {}
}
