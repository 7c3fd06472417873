import ArgumentParser
import Foundation
import TandemScript
import TandemServer

/// `tandem check -f FILE`: validates a config; prints every error as `file:line:col: message`.
/// `-f -` reads the config from standard input (named `<stdin>` in the output). `--list-missing` prints
/// only what the script uses that Tandem lacks, grouped by feature with the lines using each.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config: syntax, functions, modules, routes, parameters. Exit 0 if usable, 1 if not.")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Only list what the script uses that Tandem lacks: each missing function, module, pseudo-variable or transformation with every file:line:column using it. Exit 0 if nothing is missing, 1 otherwise.")
    var listMissing = false

    func run() throws {
        let source = try ConfigFile.readOrExit(options.file)
        let name = ConfigFile.displayName(options.file)
        let loaded = TandemServer.load(source: source, fileName: name)
        if listMissing {
            guard !loaded.missing.isEmpty else {
                print("\(name): nothing missing")
                return
            }
            print("\(name): Tandem lacks \(Set(loaded.missing.map { "\($0.kind.rawValue) \($0.name)" }).count) feature(s):")
            print(loaded.missing.migrationReport())
            throw ExitCode(1)
        }
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
