import ArgumentParser
import Foundation
import Glibc
import Logging
import TandemScript
import TandemServer

/// `tandem run -f FILE`: runs the proxy in the foreground, logging to stderr, until SIGINT/SIGTERM.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the proxy in the foreground (logs to stderr).")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .shortAndLong, help: "More log output (repeat for more).")
    var verbose: Int

    func run() throws {
        let source = try ConfigFile.readOrExit(options.file)
        // Parse first with a quiet logger to learn log_level, then bootstrap logging once.
        let probe = TandemServer.load(source: source, fileName: options.file, logger: Logger(label: "probe") { _ in SwiftLogNoOpLogHandler() })
        let level = Self.logLevel(scriptLevel: probe.config.logLevel, verbose: verbose)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tandem")
        let loaded = TandemServer.load(source: source, fileName: options.file, logger: logger)
        for diagnostic in loaded.diagnostics {
            FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
        }
        guard let server = loaded.server, !loaded.hasErrors else {
            logger.critical("config has errors; not starting", metadata: ["file": "\(options.file)"])
            throw ExitCode(1)
        }
        // Workers inherit the blocked mask; the main thread collects the signal with sigwait.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        do {
            try server.start()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        logger.notice("tandem running", metadata: ["config": "\(options.file)"])
        var received: Int32 = 0
        sigwait(&signals, &received)
        logger.notice("stopping", metadata: ["signal": "\(received == SIGINT ? "SIGINT" : "SIGTERM")"])
        server.stop()
    }

    /// OpenSIPS `log_level` (-3 alert … 4 debug) plus `-v` flags, as a swift-log level.
    static func logLevel(scriptLevel: Int, verbose: Int) -> Logger.Level {
        switch scriptLevel + verbose {
        case ...(-2): .critical
        case -1: .error
        case 0, 1: .warning
        case 2: .notice
        case 3: .info
        default: .debug
        }
    }
}
