import Logging
import MongoDriver

/// Sends the database drivers' own log output (libmongoc's) through swift-log, so that every line
/// on stderr has the configured format (a raw line would break `--log-format json`).
public enum DriverLogs {
    /// Routes libmongoc's lines to `logger` (label and handler as configured), passing on the levels
    /// `logger` would write, warnings at least.
    public static func install(_ logger: Logger) {
        MongoLog.minimumLevel = switch logger.logLevel {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .message
        default: .warning
        }
        MongoLog.install { level, domain, text in
            logger.log(level: Self.level(level), "\(text)", metadata: ["domain": .string(domain)])
        }
    }

    static func level(_ level: MongoLog.Level) -> Logger.Level {
        switch level {
        case .error: .error
        case .critical: .critical
        case .warning: .warning
        case .message: .notice
        case .info: .info
        case .debug: .debug
        case .trace: .trace
        }
    }
}
