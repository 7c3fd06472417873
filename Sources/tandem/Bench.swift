import ArgumentParser
import TandemScript

/// `tandem bench-script`: the interpreter micro-benchmark (ns per executed statement of a typical
/// request route). Build with `-c release` before quoting its figures.
struct BenchScript: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-script",
        abstract: "Measure the routing-script interpreter: nanoseconds per executed statement.")

    @Option(help: "Route runs to time.")
    var iterations: Int = 200_000

    @Option(name: .shortAndLong, help: "Script whose main route is timed instead of the built-in typical route.")
    var file: String?

    func run() throws {
        var source = ScriptBenchmark.typicalScript
        if let file {
            switch ConfigFile.read(file) {
            case .success(let text): source = text
            case .failure(let e): print(e.description); throw ExitCode(1)
            }
        }
        guard let result = ScriptBenchmark.run(iterations: max(1, iterations), source: source) else {
            print("benchmark script failed to compile")
            throw ExitCode(1)
        }
        print(result)
    }
}
