import Foundation
import Glibc

/// The built `tandem` binary run as a child process with a config file, for tests of what only a
/// real process shows (signals, exit status). The child is killed when this object goes away.
final class TandemProcess {
    let process = Process()
    let directory: String
    let logFile: String
    /// When the process was seen to exit (set by `waitForExit`).
    private(set) var exitedAt: Date?

    /// `TANDEM_TEST_BINARY`, else `tandem` beside the test bundle (the same build directory), else
    /// `.build/debug/tandem` of this checkout.
    static var binary: String? {
        if let env = ProcessInfo.processInfo.environment["TANDEM_TEST_BINARY"], !env.isEmpty { return env }
        var candidates: [String] = []
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "")
        // .build/debug/TandemPackageTests.xctest (Linux: an executable) → .build/debug/tandem
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("tandem").path)
        for argument in CommandLine.arguments where argument.hasSuffix(".xctest") {
            candidates.append(URL(fileURLWithPath: argument).deletingLastPathComponent().appendingPathComponent("tandem").path)
        }
        // Tests/TandemProxyTests/Support/TandemProcess.swift → .build/debug/tandem
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/tandem").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var isAvailable: Bool { binary != nil }

    /// Writes `config` to a temporary file and runs `tandem run -f FILE arguments…`, logging to a file.
    init(config: String, arguments: [String] = []) throws {
        directory = NSTemporaryDirectory() + "tandem-proc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configFile = directory + "/tandem.cfg"
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
        logFile = directory + "/tandem.log"
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary ?? "/nonexistent/tandem")
        process.arguments = ["run", "-f", configFile] + arguments
        let handle = FileHandle(forWritingAtPath: logFile)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit { kill() }

    var pid: pid_t { process.processIdentifier }

    /// The log (stderr and stdout) so far.
    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Waits up to `timeout` seconds until the log contains `text`.
    @discardableResult
    func waitForLog(_ text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(text) { return true }
            if !process.isRunning { return log.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Sends `signal` to the process.
    func send(_ signal: Int32) {
        if process.isRunning { _ = Glibc.kill(pid, signal) }
    }

    /// Waits up to `timeout` seconds for the process to exit; its exit status, or nil if it still runs
    /// (or died of a signal).
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        guard !process.isRunning else { return nil }
        if exitedAt == nil { exitedAt = Date() }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }

    /// Kills the process (SIGKILL) if it still runs.
    func kill() {
        guard process.isRunning else { return }
        _ = Glibc.kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// The integer value of `key=` in the first log line containing `line`, if any.
    func logValue(_ key: String, inLineContaining line: String) -> Int? {
        guard let text = log.split(separator: "\n").first(where: { $0.contains(line) }),
              let range = text.range(of: " \(key)=") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }
}
