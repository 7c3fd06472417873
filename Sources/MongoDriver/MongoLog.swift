import CMongoC
import Glibc
import Synchronization

/// Where libmongoc's own log lines go. By default only errors, critical messages and warnings are
/// written to stderr (libmongoc's default handler also prints its debug chatter, e.g. every failed
/// monitor check); ``install(_:)`` routes every line at or above ``minimumLevel`` to the caller instead
/// (e.g. to swift-log).
public enum MongoLog {
    /// Severity of a libmongoc log line, most severe first.
    public enum Level: Int, Sendable, Comparable {
        case error = 0, critical, warning, message, info, debug, trace

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue > rhs.rawValue }
    }

    /// A receiver of log lines: level, libmongoc domain (e.g. `"client"`), message.
    public typealias Handler = @Sendable (Level, String, String) -> Void

    private struct State: Sendable {
        var minimumLevel: Level = .warning
        var handler: Handler?
    }

    private static let state = Mutex(State())

    /// The least severe level passed on (default `.warning`).
    public static var minimumLevel: Level {
        get { state.withLock { $0.minimumLevel } }
        set { state.withLock { $0.minimumLevel = newValue } }
    }

    /// Routes libmongoc's log lines to `handler` (`nil`: stderr).
    public static func install(_ handler: Handler?) {
        state.withLock { $0.handler = handler }
    }

    /// Installs the C callback (once, from `mongoc_init`'s one-time setup).
    static func attach() {
        mongoc_log_set_handler({ level, domain, message, _ in
            MongoLog.emit(level: Int(level.rawValue), domain: domain, message: message)
        }, nil)
    }

    private static func emit(level raw: Int, domain: UnsafePointer<CChar>?, message: UnsafePointer<CChar>?) {
        let level = Level(rawValue: raw) ?? .trace
        let (minimum, handler) = state.withLock { ($0.minimumLevel, $0.handler) }
        guard level >= minimum else { return }
        let domainText = domain.map { String(cString: $0) } ?? ""
        let text = message.map { String(cString: $0) } ?? ""
        if let handler {
            handler(level, domainText, text)
        } else {
            var line = "mongoc \(level) [\(domainText)] \(text)\n"
            line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
        }
    }
}
