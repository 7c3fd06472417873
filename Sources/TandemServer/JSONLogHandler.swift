#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// A swift-log handler writing one JSON object per line (`tandem run --log-format json`):
/// `timestamp` (ISO 8601 UTC, milliseconds), `level`, `label`, `message`, then every metadata
/// entry as a field of its own (a key that clashes with those four is written as `metadata.KEY`).
///
/// Each line goes out in one `write(2)` under a process-wide lock, so lines from different worker
/// threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    private let output: @Sendable ([UInt8]) -> Void

    /// `output` receives each finished line (newline included); by default it goes to stderr.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil,
                output: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error, merged["error"] == nil { merged["error"] = .string("\(error)") }
        output(Self.line(timestamp: Self.timestamp(), level: event.level, label: label,
                         message: event.message.description, metadata: merged))
    }

    /// One JSON line (UTF-8, ending in `\n`). Metadata keys come out sorted, so lines are stable.
    public static func line(timestamp: String, level: Logger.Level, label: String, message: String,
                            metadata: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + message.utf8.count)
        out.append(UInt8(ascii: "{"))
        field("timestamp", .string(timestamp), into: &out, first: true)
        field("level", .string(level.rawValue), into: &out)
        field("label", .string(label), into: &out)
        field("message", .string(message), into: &out)
        for key in metadata.keys.sorted() {
            let name = reserved.contains(key) ? "metadata.\(key)" : key
            field(name, metadata[key]!, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private static let reserved: Set<String> = ["timestamp", "level", "label", "message"]

    private static func field(_ name: String, _ value: Logger.Metadata.Value, into out: inout [UInt8],
                              first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        appendString(name, into: &out)
        out.append(UInt8(ascii: ":"))
        appendValue(value, into: &out)
    }

    private static func appendValue(_ value: Logger.Metadata.Value, into out: inout [UInt8]) {
        switch value {
        case .string(let text): appendString(text, into: &out)
        case .stringConvertible(let convertible): appendString(convertible.description, into: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (i, element) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "{"))
            for (i, key) in entries.keys.sorted().enumerated() {
                field(key, entries[key]!, into: &out, first: i == 0)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 §7).
    static func appendString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Now as `2024-05-01T12:34:56.789Z`.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec / 1_000_000))
    }

    /// `seconds` since the epoch (UTC) plus milliseconds, as ISO 8601.
    public static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }

    /// Writes `line` to stderr in one `write(2)` (continuing after a short write), holding a lock so
    /// that lines of different threads never interleave.
    public static let writeToStandardError: @Sendable ([UInt8]) -> Void = { line in
        standardErrorLock.withLock { _ in
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(2, raw.baseAddress! + offset, raw.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }

    private static let standardErrorLock = Mutex<Void>(())
}
