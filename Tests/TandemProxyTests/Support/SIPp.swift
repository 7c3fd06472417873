import Foundation
import Glibc
import TandemTestSupport

/// Runs SIPp (the real SIP peer) for integration tests and reads its statistics CSV.
struct SIPp {
    struct Stats {
        var successful: Int
        var failed: Int
        var retransmissions: Int
        var exitCode: Int32
        var output: String
    }

    static var binary: String? {
        if let env = ProcessInfo.processInfo.environment["TANDEM_TEST_SIPP"], !env.isEmpty { return env }
        for path in ["/usr/bin/sipp", "/usr/local/bin/sipp"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return nil
    }

    static var isAvailable: Bool { binary != nil }

    static var scenarioDirectory: String {
        if let env = ProcessInfo.processInfo.environment["TANDEM_TEST_SIPP_DIR"], !env.isEmpty { return env }
        // Tests/TandemProxyTests/Support/SIPp.swift → Tests/sipp
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sipp").path
    }

    static func scenario(_ name: String) -> String { scenarioDirectory + "/" + name }

    /// A running SIPp process.
    final class Instance: @unchecked Sendable {
        let process = Process()
        let statsFile: String
        let outputFile: String

        init(arguments: [String], label: String) throws {
            let dir = NSTemporaryDirectory() + "tandem-sipp-\(getpid())-\(label)-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            statsFile = dir + "/stats.csv"
            outputFile = dir + "/out.log"
            _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
            process.executableURL = URL(fileURLWithPath: SIPp.binary ?? "/usr/bin/sipp")
            process.arguments = arguments + ["-nostdin", "-trace_stat", "-stf", statsFile, "-fd", "1",
                                             "-trace_err", "-error_file", dir + "/errors.log"]
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            let handle = FileHandle(forWritingAtPath: outputFile)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Waits up to `seconds` for SIPp to exit (then kills it) and reads its last statistics row.
        /// A UAS with `-m` exits only after its last call's `timewait` (8 s in uas.xml), and a killed SIPp
        /// may not write a final row (rows are written once a second): give a UAS 30 s, which costs
        /// nothing when it exits on time, so a busy machine does not turn a slow exit into a missing call.
        func wait(seconds: Double) -> Stats {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning {
                process.terminate()
                usleep(200_000)
                if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            }
            process.waitUntilExit()
            let output = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            let errors = (try? String(contentsOfFile: (statsFile as NSString).deletingLastPathComponent + "/errors.log",
                                      encoding: .utf8)) ?? ""
            var stats = Stats(successful: -1, failed: -1, retransmissions: -1,
                              exitCode: process.terminationStatus,
                              output: String(output.suffix(2000)) + "\n--- errors ---\n" + String(errors.suffix(3000)))
            if let csv = try? String(contentsOfFile: statsFile, encoding: .utf8) {
                let lines = csv.split(whereSeparator: \.isNewline)
                if let header = lines.first, let last = lines.last, lines.count > 1 {
                    let names = header.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
                    let values = last.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
                    func field(_ name: String) -> Int {
                        guard let i = names.firstIndex(of: name), i < values.count else { return -1 }
                        return Int(values[i].trimmingCharacters(in: .whitespaces)) ?? -1
                    }
                    stats.successful = field("SuccessfulCall(C)")
                    stats.failed = field("FailedCall(C)")
                    stats.retransmissions = field("Retransmissions(C)")
                }
            }
            return stats
        }

        func kill() {
            if process.isRunning { process.terminate() }
        }
    }

    /// Starts a UAS scenario on 127.0.0.1:`port`.
    static func uas(_ scenario: String, port: UInt16, controlPort: UInt16, extra: [String] = []) throws -> Instance {
        let instance = try Instance(arguments: ["-sf", SIPp.scenario(scenario), "-i", "127.0.0.1",
                                                "-p", "\(port)", "-cp", "\(controlPort)", "-timeout", "120s"] + extra,
                                    label: "uas-\(port)")
        waitUntilBound(port)
        return instance
    }

    /// Starts a UAC scenario sending to `target` (the R-URI host) through the proxy at `proxy`.
    static func uac(_ scenario: String, target: String, proxy: String, port: UInt16, controlPort: UInt16,
                    calls: Int, rate: Int, extra: [String] = []) throws -> Instance {
        try Instance(arguments: ["-sf", SIPp.scenario(scenario), target, "-rsa", proxy, "-i", "127.0.0.1",
                                 "-p", "\(port)", "-cp", "\(controlPort)", "-m", "\(calls)", "-r", "\(rate)",
                                 "-timeout", "120s", "-buff_size", "4194304"] + extra,
                     label: "uac-\(port)")
    }

    /// Waits (up to 5 s) until a UDP port is bound on 127.0.0.1.
    static func waitUntilBound(_ port: UInt16) {
        for _ in 0..<100 {
            if !Ports.isFree(port) { return }
            usleep(50_000)
        }
    }
}
