import ArgumentParser
import Logging
import TandemScript
import TandemServer

/// `--log-format text|json` for `tandem run`.
extension LogFormat: ExpressibleByArgument {}

/// Sets up swift-log for `tandem run`: stderr, the level from `log_level` and `-v`, and the format
/// from `--log-format` or else `modparam("tandem", "log_format", …)` (default text).
enum LogSetup {
    /// Bootstraps the logging system once; returns the level chosen.
    @discardableResult
    static func bootstrap(config: ScriptConfig, verbose: Int, format: LogFormat?) -> Logger.Level {
        let level = LogConfiguration.level(logLevel: config.logLevel, verbose: verbose)
        let chosen = format ?? LogConfiguration.format(for: config).0 ?? .text
        LoggingSystem.bootstrap(LogConfiguration.makeHandler(format: chosen, level: level))
        DriverLogs.install(Logger(label: "tandem.mongodb"))
        return level
    }
}
