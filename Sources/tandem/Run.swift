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

    @Option(name: .long, help: "Log line format: text or json (default: the config's tandem log_format, else text).")
    var logFormat: LogFormat?

    func run() throws {
        let source = try ConfigFile.readOrExit(options.file)
        // Parse first with a quiet logger to learn log_level, then bootstrap logging once.
        let probe = TandemServer.load(source: source, fileName: options.file, logger: Logger(label: "probe") { _ in SwiftLogNoOpLogHandler() })
        LogSetup.bootstrap(config: probe.config, verbose: verbose, format: logFormat)
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
}
