import ArgumentParser
import TLSTransport

/// `tandem bench-tls`: full TLS handshakes per second between two in-memory sessions (client and server
/// in one thread, no sockets). Certificates as `scripts/test-certs.sh DIR` makes them. Build with
/// `-c release` before quoting its figures.
struct BenchTLS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tls",
        abstract: "Measure TLS handshakes per second of in-memory session pairs (OpenSSL 3).")

    @Option(help: "Directory with ca.pem, server.pem/.key and client.pem/.key (scripts/test-certs.sh DIR).")
    var certificates: String

    @Option(help: "Handshakes to time.")
    var count: Int = 2_000

    @Option(help: "tls_method: TLSv1_2, TLSv1_3, SSLv23 or a range.")
    var method: String = "TLSv1_3"

    @Flag(help: "Mutual TLS: the client presents its certificate and the server requires and verifies it.")
    var mutual = false

    func run() throws {
        let versions: TLSVersionRange
        do {
            versions = try TLSVersionRange.parse(method)
        } catch {
            print("--method: \(error)")
            throw ExitCode(1)
        }
        var server = TLSContextConfiguration(role: .server)
        server.certificatePath = "\(certificates)/server.pem"
        server.privateKeyPath = "\(certificates)/server.key"
        server.caListPath = "\(certificates)/ca.pem"
        server.requireCertificate = mutual
        server.verifyCertificate = mutual
        server.versions = versions
        var client = TLSContextConfiguration(role: .client)
        client.caListPath = "\(certificates)/ca.pem"
        client.serverName = "localhost"
        client.versions = versions
        if mutual {
            client.certificatePath = "\(certificates)/client.pem"
            client.privateKeyPath = "\(certificates)/client.key"
        }
        do {
            let serverContext = try TLSContext(server)
            let clientContext = try TLSContext(client)
            _ = TLSHandshakeBenchmark.run(server: serverContext, client: clientContext, count: min(count, 50))  // warm-up
            print(TLSHandshakeBenchmark.run(server: serverContext, client: clientContext, count: max(1, count)))
        } catch {
            print("\(error)")
            throw ExitCode(1)
        }
    }
}
