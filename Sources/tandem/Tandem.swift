import ArgumentParser

@main
struct Tandem: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tandem SIP proxy")
    func run() throws {}
}
