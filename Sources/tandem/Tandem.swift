import ArgumentParser

/// The `tandem` command: run the proxy or check a config.
@main
struct Tandem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tandem: a stateful SIP proxy with an OpenSIPS-compatible routing script.",
        subcommands: [Run.self, Check.self, Ctl.self, BenchScript.self, BenchTLS.self],
        defaultSubcommand: Run.self
    )
}

/// Options shared by the subcommands.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "The routing script (config) to use; - reads it from standard input.")
    var file: String = "Configs/default.cfg"
}
