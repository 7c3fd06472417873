import Foundation
import Logging
import Synchronization
import TandemScript
import Testing
@testable import TandemServer

/// The JSON line handler, the `log_level`/`-v` level mapping and the `log_format` modparam.
@Suite struct LogFormatTests {
    /// Collects the lines a `JSONLogHandler` writes.
    final class Lines: Sendable {
        let lines = Mutex<[[UInt8]]>([])
        var output: @Sendable ([UInt8]) -> Void { { line in self.lines.withLock { $0.append(line) } } }
        var all: [[UInt8]] { lines.withLock { $0 } }
    }

    @Test func jsonLinesParseWithMetadataAsFields() throws {
        let sink = Lines()
        var logger = Logger(label: "tandem") { label in JSONLogHandler(label: label, output: sink.output) }
        logger.logLevel = .debug
        logger[metadataKey: "worker"] = "1"
        logger.warning("hello \"quoted\"\nsecond line\t\u{01}", metadata: [
            "call_id": "abc@host", "branch": "z9hG4bK1", "level": "clash",
            "nested": ["a": "1", "list": ["x", "y"]], "count": .stringConvertible(42),
        ])
        logger.trace("not at debug")
        logger.debug("plain")
        let lines = sink.all
        #expect(lines.count == 2)
        for line in lines {
            #expect(line.last == UInt8(ascii: "\n"))
            #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false, "one line per record")
        }
        let first = try #require(JSONSerialization.jsonObject(with: Data(lines[0])) as? [String: Any])
        #expect(first["level"] as? String == "warning")
        #expect(first["label"] as? String == "tandem")
        #expect(first["message"] as? String == "hello \"quoted\"\nsecond line\t\u{01}")
        #expect(first["call_id"] as? String == "abc@host")
        #expect(first["branch"] as? String == "z9hG4bK1")
        #expect(first["worker"] as? String == "1")
        #expect(first["metadata.level"] as? String == "clash")
        #expect(first["count"] as? String == "42")
        let nested = try #require(first["nested"] as? [String: Any])
        #expect(nested["a"] as? String == "1")
        #expect(nested["list"] as? [String] == ["x", "y"])
        let timestamp = try #require(first["timestamp"] as? String)
        #expect(timestamp.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil,
                "\(timestamp)")
        let second = try #require(JSONSerialization.jsonObject(with: Data(lines[1])) as? [String: Any])
        #expect(second["message"] as? String == "plain")
        #expect(second["level"] as? String == "debug")
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(JSONLogHandler.timestamp(seconds: 1_709_251_199, milliseconds: 999) == "2024-02-29T23:59:59.999Z")
    }

    @Test func concurrentWritersGetWholeLines() async throws {
        let sink = Lines()
        let logger = Logger(label: "tandem") { label in JSONLogHandler(label: label, output: sink.output) }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for i in 0..<200 { logger.info("line", metadata: ["task": "\(task)", "i": "\(i)"]) }
                }
            }
        }
        #expect(sink.all.count == 1600)
        for line in sink.all {
            #expect((try? JSONSerialization.jsonObject(with: Data(line))) != nil)
        }
    }

    @Test("log_level -3..4 map to swift-log levels; each -v is one step more verbose")
    func levelMapping() {
        #expect(LogConfiguration.level(logLevel: -3) == .critical)
        #expect(LogConfiguration.level(logLevel: -2) == .critical)
        #expect(LogConfiguration.level(logLevel: -1) == .error)
        #expect(LogConfiguration.level(logLevel: 0) == .error)
        #expect(LogConfiguration.level(logLevel: 1) == .warning)
        #expect(LogConfiguration.level(logLevel: 2) == .notice)
        #expect(LogConfiguration.level(logLevel: 3) == .info)
        #expect(LogConfiguration.level(logLevel: 4) == .debug)
        #expect(LogConfiguration.level(logLevel: 2, verbose: 1) == .info)
        #expect(LogConfiguration.level(logLevel: 2, verbose: 2) == .debug)
        #expect(LogConfiguration.level(logLevel: 2, verbose: 3) == .trace)
        #expect(LogConfiguration.level(logLevel: -1, verbose: 1) == .warning)
        #expect(LogConfiguration.level(logLevel: 0, verbose: 1) == .warning)
        #expect(LogConfiguration.level(logLevel: -3, verbose: 1) == .critical)
        #expect(LogConfiguration.level(logLevel: -3, verbose: 2) == .error)
        #expect(LogConfiguration.level(logLevel: 4, verbose: 1) == .trace)
    }

    @Test("xlog levels map to swift-log levels and back")
    func scriptLevelMapping() {
        #expect(SwiftLogScriptLogger.level(.alert) == .critical)
        #expect(SwiftLogScriptLogger.level(.critical) == .critical)
        #expect(SwiftLogScriptLogger.level(.error) == .error)
        #expect(SwiftLogScriptLogger.level(.warning) == .warning)
        #expect(SwiftLogScriptLogger.level(.notice) == .notice)
        #expect(SwiftLogScriptLogger.level(.info) == .info)
        #expect(SwiftLogScriptLogger.level(.debug) == .debug)
        for level in ScriptLogLevel.allCases where level != .alert {
            #expect(SwiftLogScriptLogger.scriptLevel(SwiftLogScriptLogger.level(level)) == level)
        }
        #expect(SwiftLogScriptLogger.scriptLevel(.trace) == .debug)
    }

    @Test("modparam tandem log_format: text or json; anything else is a config error; log_stderror is accepted")
    func logFormatModparam() {
        func load(_ extra: String) -> TandemServer.Loaded {
            TandemServer.load(source: """
                log_level = 2
                log_stderror = yes
                socket = udp:127.0.0.1:5099
                \(extra)
                route { exit; }
                """, fileName: "log.cfg")
        }
        let json = load("modparam(\"tandem\", \"log_format\", \"json\")")
        #expect(!json.hasErrors, "\(json.diagnostics)")
        #expect(json.diagnostics.isEmpty, "\(json.diagnostics)")
        #expect(LogConfiguration.format(for: json.config).0 == .json)
        let none = load("")
        #expect(LogConfiguration.format(for: none.config).0 == nil)
        let bad = load("modparam(\"tandem\", \"log_format\", \"xml\")")
        #expect(bad.hasErrors)
        #expect(bad.diagnostics.contains { "\($0)".contains("log_format") })
    }
}
