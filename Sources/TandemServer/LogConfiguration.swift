import Logging
import TandemScript

/// How log lines are written: `text` (swift-log's stream format, metadata as `key=value`) or `json`
/// (one object per line, see `JSONLogHandler`).
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// The logging settings of a config: the swift-log level for `log_level` plus `-v`, and
/// `modparam("tandem", "log_format", "text" | "json")`.
public enum LogConfiguration {
    /// OpenSIPS `log_level` values from least to most verbose (0 counts as `L_ERR`, as in OpenSIPS
    /// where it prints errors and worse).
    static let steps: [Int] = [-3, -2, -1, 1, 2, 3, 4]

    /// The swift-log level for `log_level` (-3 alert … 4 debug) raised by `verbose` steps (`-v` each):
    /// alert and critical are `.critical`, then error, warning, notice, info, debug, and `.trace`
    /// past debug.
    public static func level(logLevel: Int, verbose: Int = 0) -> Logger.Level {
        let base: Int
        if let index = steps.firstIndex(of: logLevel) {
            base = index
        } else if logLevel == 0 {
            base = 2
        } else {
            base = logLevel < 0 ? 0 : steps.count - 1
        }
        switch base + max(0, verbose) {
        case 0, 1: return .critical
        case 2: return .error
        case 3: return .warning
        case 4: return .notice
        case 5: return .info
        case 6: return .debug
        default: return .trace
        }
    }

    /// `modparam("tandem", "log_format", …)`: nil when absent; a diagnostic when not `text` or `json`.
    public static func format(for config: ScriptConfig) -> (LogFormat?, [Diagnostic]) {
        guard let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "log_format" }) else {
            return (nil, [])
        }
        let text = decl.value.plainText.trimmingSpaces().lowercased()
        guard let format = LogFormat(rawValue: text) else {
            return (nil, [Diagnostic(decl.location, "tandem log_format must be \"text\" or \"json\"")])
        }
        return (format, [])
    }

    /// A handler factory for `LoggingSystem.bootstrap`: every logger writes to stderr at `level`.
    public static func makeHandler(format: LogFormat, level: Logger.Level) -> @Sendable (String) -> any LogHandler {
        { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
