import Foundation
import Glibc
import TandemTestSupport

/// A Debian `stunnel4` process for one test: a TLS client in front of a plain TCP peer (SIPp `-t t1`
/// calling a TLS proxy), or a TLS server in front of a TCP listener (a TLS next hop for the proxy).
/// Its configuration and log live in a temporary directory; it is stopped when released.
final class Stunnel {
    /// Where it accepts connections (plain for a client tunnel, TLS for a server tunnel).
    let acceptPort: UInt16
    private let process = Process()
    private let directory: String

    struct Missing: Error, CustomStringConvertible {
        var description: String { "stunnel4 is not installed (Debian package stunnel4, in scripts/test.sh PACKAGES)" }
    }

    /// `client`: plain in on `acceptPort`, TLS out to `connectPort`; else TLS in, plain out.
    /// `certificate`/`key`: the tunnel's own (a client certificate, or the server's); `caFile`: the CAs
    /// the peer's certificate is verified against (no verification without it).
    init(client: Bool, connectPort: UInt16, certificate: String? = nil, key: String? = nil,
         caFile: String? = nil) throws {
        let candidates = ["/usr/bin/stunnel4", "/usr/bin/stunnel"]
        guard let binary = candidates.first(where: { path in access(path, X_OK) == 0 }) else {
            throw Missing()
        }
        acceptPort = Ports.free()
        var template = Array("/tmp/tandem-stunnel-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw Missing() }
        directory = String(cString: made)
        var lines = [
            "foreground = yes", "pid =", "debug = 5", "output = \(directory)/stunnel.log", "syslog = no",
            "[sip]",
            "client = \(client ? "yes" : "no")",
            "accept = 127.0.0.1:\(acceptPort)",
            "connect = 127.0.0.1:\(connectPort)",
        ]
        if let certificate { lines.append("cert = \(certificate)") }
        if let key { lines.append("key = \(key)") }
        if let caFile {
            lines += ["CAfile = \(caFile)", "verifyChain = yes"] + (client ? ["checkIP = 127.0.0.1"] : [])
        }
        if client { lines.append("sni = localhost") }
        let configuration = "\(directory)/stunnel.conf"
        try (lines.joined(separator: "\n") + "\n").write(toFile: configuration, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [configuration]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once its accept socket is bound.
        for _ in 0..<100 where Ports.isFree(acceptPort) { usleep(50_000) }
    }

    /// stunnel's own log (handshake errors, connections), for test failure messages.
    var log: String { String((try? String(contentsOfFile: "\(directory)/stunnel.log", encoding: .utf8))?.suffix(3000) ?? "") }

    deinit {
        if process.isRunning {
            process.terminate()
            for _ in 0..<40 where process.isRunning { usleep(50_000) }
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        }
        _ = try? FileManager.default.removeItem(atPath: directory)
    }
}
