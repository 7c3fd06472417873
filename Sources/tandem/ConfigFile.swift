import ArgumentParser
import Foundation

/// Reads a config file, turning a missing or unreadable file into a message with its path.
enum ConfigFile {
    /// The config's text, or exit 1 after printing why it cannot be read.
    static func readOrExit(_ path: String) throws -> String {
        do {
            return try read(path)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

struct ConfigFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path): cannot read config: \(reason)" }
}
