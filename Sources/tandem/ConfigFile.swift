import ArgumentParser
import Foundation
import TandemScript

/// Reads the config named by `-f`: a path, or `-` for standard input. Non-regular files (`/dev/stdin`,
/// a FIFO, a process substitution) are read to end of file. A missing or unreadable file becomes one
/// line with its path and the OS reason (`cannot read '/x.cfg': No such file or directory`).
enum ConfigFile {
    /// The `-f` value that means standard input.
    static let standardInput = "-"

    /// The name diagnostics give the config: `<stdin>` for `-`, else the path as given.
    static func displayName(_ path: String) -> String {
        path == standardInput ? ScriptFiles.standardInputName : path
    }

    /// The config's text, or exit 1 after printing why it cannot be read to standard error.
    static func readOrExit(_ path: String) throws -> String {
        switch read(path) {
        case .success(let text):
            return text
        case .failure(let error):
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The config's text, or the path and OS reason it cannot be read.
    static func read(_ path: String) -> Result<String, ScriptFileError> {
        path == standardInput ? ScriptFiles.loadStandardInput() : ScriptFiles.load(path)
    }
}
