import ArgumentParser
import Foundation
import TandemScript
import TandemServer

/// `tandem check -f FILE`: validates a config; prints every error as `file:line:col: message`.
/// `-f -` reads the config from standard input (named `<stdin>` in the output).
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config: syntax, functions, modules, routes, parameters. Exit 0 if usable, 1 if not.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let source = try ConfigFile.readOrExit(options.file)
        let name = ConfigFile.displayName(options.file)
        let loaded = TandemServer.load(source: source, fileName: name)
        for diagnostic in loaded.diagnostics {
            let prefix = diagnostic.severity == .warning ? "warning: " : ""
            print("\(diagnostic.file):\(diagnostic.line):\(diagnostic.column): \(prefix)\(diagnostic.message)")
        }
        if !loaded.missing.isEmpty {
            print("\(name): Tandem lacks \(loaded.missing.count) feature(s) this script uses:")
            for feature in loaded.missing { print("  \(feature)") }
        }
        if loaded.hasErrors || loaded.server == nil { throw ExitCode(1) }
        print("\(name): OK")
    }
}
