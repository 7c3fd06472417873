import Logging
import TandemProxy
import TandemScript

/// Sends `xlog` output to swift-log with the matching level, and the script's log context (route,
/// Call-ID, branch, method, CSeq) as metadata.
struct SwiftLogScriptLogger: ScriptLogger {
    let logger: Logger

    func log(_ level: ScriptLogLevel, _ message: String, context: ScriptLogContext) {
        var text = message
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        logger.log(level: Self.level(level), "\(text)", metadata: Self.metadata(context))
    }

    /// The swift-log level decides which xlog lines are formatted at all.
    var maximumLevel: ScriptLogLevel? { Self.scriptLevel(logger.logLevel) }

    static func metadata(_ context: ScriptLogContext) -> Logger.Metadata {
        var metadata: Logger.Metadata = [LogMetadataKey.route: .string(context.route)]
        if let callID = context.callID { metadata[LogMetadataKey.callID] = .string(callID) }
        if let branch = context.branch { metadata[LogMetadataKey.branch] = .string(branch) }
        if let method = context.method { metadata[LogMetadataKey.method] = .string(method) }
        if let cseq = context.cseq { metadata[LogMetadataKey.cseq] = .string(cseq) }
        return metadata
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

    /// The most verbose xlog level a swift-log level lets through.
    static func scriptLevel(_ level: Logger.Level) -> ScriptLogLevel {
        switch level {
        case .critical: .critical
        case .error: .error
        case .warning: .warning
        case .notice: .notice
        case .info: .info
        case .debug, .trace: .debug
        }
    }
}
