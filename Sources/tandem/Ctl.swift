import ArgumentParser
import Foundation
import TandemOperations
import TandemScript
import TandemServer

/// `tandem ctl stats|health`: asks a running Tandem's operations endpoint (httpd + mi_http) and prints
/// the JSON reply, pretty. The address comes from `--url`, else from the config's httpd ip/port
/// (`-f`), else `http://127.0.0.1:8888`.
struct Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Query a running Tandem: 'stats' (counters as JSON) or 'health' (liveness/readiness).",
        discussion: "Exit 0 with the JSON on stdout; 1 if the endpoint cannot be reached or does not answer 200.")

    /// What to ask for.
    enum Query: String, ExpressibleByArgument, CaseIterable {
        case stats, health
    }

    @Argument(help: "stats | health")
    var query: Query

    @Option(help: "Base URL of the operations endpoint (default: from -f, else http://127.0.0.1:8888).")
    var url: String?

    @Option(name: [.customShort("f"), .long], help: "Read the httpd ip/port from this config.")
    var file: String?

    @Option(help: "Seconds to wait for the reply.")
    var timeout: Int = 5

    func run() throws {
        let base: String
        if let url {
            base = url
        } else if let file {
            base = try Self.baseURL(fromConfig: file)
        } else {
            base = OperationsConfiguration().baseURL
        }
        guard let parsed = URL(string: base), parsed.scheme == "http", let host = parsed.host, !host.isEmpty else {
            Self.fail("'\(base)' is not an http://HOST:PORT URL")
        }
        var prefix = parsed.path
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let path = prefix + "/" + query.rawValue
        let reply: OperationsClient.Reply
        do {
            reply = try OperationsClient.get(host: host, port: parsed.port ?? 80, path: path,
                                             timeoutSeconds: Int64(max(1, timeout)))
        } catch {
            Self.fail("cannot reach the operations endpoint: \(error)")
        }
        guard reply.status == 200 else {
            Self.fail("GET \(base)\(path.dropFirst(prefix.count)) answered HTTP \(reply.status): \(reply.text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        print(Self.pretty(reply.body) ?? reply.text)
    }

    /// `http://IP:PORT` of the config's httpd (a wildcard ip is reached over loopback).
    static func baseURL(fromConfig path: String) throws -> String {
        let source = try ConfigFile.readOrExit(path)
        let checked = ScriptChecker().check(source: source, fileName: ConfigFile.displayName(path))
        let (operations, diagnostics) = ServerConfiguration.operations(for: checked.config)
        for diagnostic in diagnostics where diagnostic.severity == .error {
            FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
        }
        guard var operations else {
            fail("\(path) loads no usable httpd module: it has no operations endpoint (add loadmodule \"httpd.so\" and \"mi_http.so\")")
        }
        if operations.host == "0.0.0.0" { operations.host = "127.0.0.1" }
        if operations.host == "::" { operations.host = "::1" }
        return operations.baseURL
    }

    static func pretty(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("tandem ctl: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
