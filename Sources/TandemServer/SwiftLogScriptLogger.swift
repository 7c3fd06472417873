import Logging
import TandemScript

/// Sends `xlog` output to swift-log with the matching level.
struct SwiftLogScriptLogger: ScriptLogger {
    let logger: Logger

    func log(_ level: ScriptLogLevel, _ message: String) {
        var text = message
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        logger.log(level: Self.level(level), "\(text)")
    }

    static func level(_ level: ScriptLogLevel) -> Logger.Level {
        switch level {
        case .alert, .critical: .critical
        case .error: .error
        case .warning: .warning
        case .notice: .notice
        case .info: .info
        case .debug: .debug
        }
    }
}
