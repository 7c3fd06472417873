import Foundation
import Glibc
import Logging
import Synchronization

/// Collects log records in memory so tests can look at levels, messages and metadata.
final class LogCapture: Sendable {
    /// One log call as the handler saw it (metadata flattened to strings).
    struct Record: Sendable, CustomStringConvertible {
        var level: Logger.Level
        var label: String
        var message: String
        var metadata: [String: String]
        var description: String { "\(level) \(message) \(metadata.sorted { $0.key < $1.key })" }
    }

    private let records = Mutex<[Record]>([])

    /// A logger whose lines land here, at `level`.
    func logger(label: String = "test", level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { label in CapturingLogHandler(label: label, capture: self) }
        logger.logLevel = level
        return logger
    }

    func append(_ record: Record) { records.withLock { $0.append(record) } }

    var all: [Record] { records.withLock { $0 } }

    /// The first record matching `predicate`, waiting up to `timeout` seconds for it to appear.
    func wait(timeout: Double = 3, _ predicate: (Record) -> Bool) -> Record? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let found = all.first(where: predicate) { return found }
            usleep(5_000)
        } while Date() < deadline
        return nil
    }
}

/// A swift-log handler that hands every record to a `LogCapture`.
struct CapturingLogHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        capture.append(LogCapture.Record(level: event.level, label: label, message: event.message.description,
                                         metadata: merged.mapValues { "\($0)" }))
    }
}
