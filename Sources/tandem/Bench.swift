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

    func run() throws {
        guard let result = ScriptBenchmark.run(iterations: max(1, iterations)) else {
            print("benchmark script failed to compile")
            throw ExitCode(1)
        }
        print(result)
    }
}
