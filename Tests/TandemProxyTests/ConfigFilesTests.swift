import Foundation
import TandemScript
import TandemServer
import Testing

/// The configs shipped in Configs/ must stay usable as the language and drivers change.
struct ConfigFilesTests {
    static var configDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Configs")
    }

    @Test("Every config under Configs/ checks without errors")
    func shippedConfigsCheck() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.configDirectory.path)
            .filter { $0.hasSuffix(".cfg") }
        #expect(files.contains("default.cfg"))
        for file in files {
            let path = Self.configDirectory.appendingPathComponent(file).path
            let loaded = TandemServer.load(source: try String(contentsOfFile: path, encoding: .utf8), fileName: file)
            #expect(!loaded.hasErrors, "\(loaded.diagnostics.map(\.description))")
            #expect(loaded.server != nil, "\(file)")
        }
    }

    /// Runs `command` with `bash -c` (for pipes, redirections and process substitution) and returns the
    /// exit status and what the command wrote.
    static func shell(_ command: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("tandem check -f - and non-regular files (/dev/stdin, a pipe, process substitution) read the script",
          .enabled(if: OperationsEndpointTests.tandemBinary != nil, "build the tandem binary first (swift build)"))
    func checkReadsStandardInputAndNonRegularFiles() throws {
        let tandem = try #require(OperationsEndpointTests.tandemBinary)
        let config = Self.configDirectory.appendingPathComponent("default.cfg").path
        let dash = try Self.shell("'\(tandem)' check -f - < '\(config)'")
        #expect(dash.status == 0, "\(dash)")
        #expect(dash.stdout.hasSuffix("<stdin>: OK\n"), "\(dash)")
        let devStdin = try Self.shell("cat '\(config)' | '\(tandem)' check -f /dev/stdin")
        #expect(devStdin.status == 0, "\(devStdin)")
        #expect(devStdin.stdout.hasSuffix("/dev/stdin: OK\n"), "\(devStdin)")
        let substitution = try Self.shell("'\(tandem)' check -f <(cat '\(config)')")
        #expect(substitution.status == 0, "\(substitution)")
        #expect(substitution.stdout.hasSuffix(": OK\n"), "\(substitution)")
        // Diagnostics of a script read from standard input name it <stdin>.
        let broken = try Self.shell("printf 'route {\\n  t_relay(;\\n}\\n' | '\(tandem)' check -f -")
        #expect(broken.status == 1, "\(broken)")
        #expect(broken.stdout.hasPrefix("<stdin>:2:"), "\(broken)")
    }

    @Test("tandem check --list-missing prints each missing feature with the lines using it (exit 1), or nothing missing (exit 0)",
          .enabled(if: OperationsEndpointTests.tandemBinary != nil, "build the tandem binary first (swift build)"))
    func checkListMissing() throws {
        let tandem = try #require(OperationsEndpointTests.tandemBinary)
        let script = "loadmodule \"tm.so\"\\nroute {\\n  t_replicate(\"sip:a@1.2.3.4\");\\n  xlog(\"$DLG_status\");\\n  t_replicate(\"sip:a@1.2.3.4\");\\n  t_relay();\\n}\\n"
        let listed = try Self.shell("printf '\(script)' | '\(tandem)' check --list-missing -f -")
        #expect(listed.status == 1, "\(listed)")
        #expect(listed.stdout == """
            <stdin>: Tandem lacks 2 feature(s):
            function 't_replicate': 2 uses
              <stdin>:3:3
              <stdin>:5:3
            pseudo-variable '$DLG_status': 1 use
              <stdin>:4:9

            """, "\(listed)")
        let config = Self.configDirectory.appendingPathComponent("default.cfg").path
        let clean = try Self.shell("'\(tandem)' check --list-missing -f '\(config)'")
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.hasSuffix(": nothing missing\n"), "\(clean)")
    }

    @Test("tandem check: a missing or unreadable file prints its path and the OS reason, exit 1",
          .enabled(if: OperationsEndpointTests.tandemBinary != nil, "build the tandem binary first (swift build)"))
    func checkUnreadableFile() throws {
        let tandem = try #require(OperationsEndpointTests.tandemBinary)
        let missing = try Self.shell("'\(tandem)' check -f /nonexistent-tandem-dir/x.cfg")
        #expect(missing.status == 1)
        #expect(missing.stderr == "cannot read '/nonexistent-tandem-dir/x.cfg': No such file or directory\n", "\(missing)")
        #expect(missing.stdout.isEmpty)
        let directory = try Self.shell("'\(tandem)' check -f /")
        #expect(directory.status == 1)
        #expect(directory.stderr == "cannot read '/': Is a directory\n", "\(directory)")
    }

    /// libmongoc creates /dev/shm/mongoc-<pid> at load. A process killed before its exit handlers ran
    /// leaves that file, and the next process given the same pid used to print a libmongoc warning
    /// before anything of Tandem's (a CI run failed on exactly that).
    @Test("A stale /dev/shm/mongoc-<pid> file left by a dead process with tandem's pid adds nothing to its output",
          .enabled(if: OperationsEndpointTests.tandemBinary != nil && FileManager.default.fileExists(atPath: "/dev/shm"),
                   "needs the tandem binary (swift build) and /dev/shm"))
    func staleMongocCountersFileIsIgnored() throws {
        let tandem = try #require(OperationsEndpointTests.tandemBinary)
        // `exec` keeps the shell's pid, so the file is named after the pid tandem will run as.
        let result = try Self.shell("touch /dev/shm/mongoc-$$ && exec '\(tandem)' check -f /nonexistent-tandem-dir/x.cfg")
        #expect(result.status == 1)
        #expect(result.stderr == "cannot read '/nonexistent-tandem-dir/x.cfg': No such file or directory\n", "\(result)")
    }
}
