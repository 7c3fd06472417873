import ArgumentParser
import Foundation
import Logging
import Reactor
import ServiceLifecycle
import TandemScript
import TandemServer
import UnixSignals

/// `tandem run -f FILE`: runs the proxy in the foreground, logging to stderr. SIGTERM or SIGINT drains it
/// (new requests get 503, running transactions finish, up to the drain time) and exits 0; a drain that runs
/// out of time, or a second signal while draining, exits 1 at once.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the proxy in the foreground (logs to stderr).")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .shortAndLong, help: "More log output (repeat for more).")
    var verbose: Int

    @Option(name: .long, help: "Log line format: text or json (default: the config's tandem log_format, else text).")
    var logFormat: LogFormat?

    @Option(name: .long, help: "Longest graceful-shutdown drain in seconds (overrides modparam tandem drain_time).")
    var drainTime: Int?

    func validate() throws {
        if let drainTime, !(0...86_400).contains(drainTime) {
            throw ValidationError("--drain-time must be a number of seconds from 0 to 86400")
        }
    }

    func run() async throws {
        // Before any worker thread exists, so their malloc arenas start with the slack (issue 19).
        let mallocTuned = System.tuneMallocForServer()
        let source = try ConfigFile.readOrExit(options.file)
        let name = ConfigFile.displayName(options.file)
        // Parse first with a quiet logger to learn log_level, then bootstrap logging once.
        let probe = TandemServer.load(source: source, fileName: name, logger: Logger(label: "probe") { _ in SwiftLogNoOpLogHandler() })
        LogSetup.bootstrap(config: probe.config, verbose: verbose, format: logFormat)
        let logger = Logger(label: "tandem")
        if !mallocTuned {
            logger.info("malloc tunables come from the environment (GLIBC_TUNABLES glibc.malloc.*, MALLOC_*); not setting them")
        }
        let loaded = TandemServer.load(source: source, fileName: name, logger: logger)
        for diagnostic in loaded.diagnostics {
            FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
        }
        guard let server = loaded.server, !loaded.hasErrors else {
            logger.critical("config has errors; not starting", metadata: ["file": "\(name)"])
            throw ExitCode(1)
        }
        let drain = Duration.seconds(drainTime ?? server.drainTimeSeconds)
        let service = TandemService(server: server, drainTime: drain, logger: logger)
        var configuration = ServiceGroupConfiguration(services: [service], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger)
        // A backstop only: the service ends its own drain at `drain`.
        configuration.maximumGracefulShutdownDuration = drain + .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch let error as TandemShutdownError {
            logger.notice("tandem exiting", metadata: ["status": "1", "reason": "\(error)"])
            throw ExitCode(1)
        } catch {
            logger.critical("cannot run", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        logger.notice("tandem exiting", metadata: ["status": "0"])
    }
}
