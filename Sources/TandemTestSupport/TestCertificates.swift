import Glibc

/// Throw-away TLS certificates made once per test process by `scripts/test-certs.sh` in a temporary
/// directory (CA, server and client leaves, a second CA and a client it signed, DH parameters).
public enum TestCertificates {
    /// Why the certificates are missing.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String { "scripts/test-certs.sh failed (is the openssl command installed?)" }
    }

    /// The directory holding the files (see the script's header); nil if the script failed.
    public static let directory: String? = {
        var template = Array("/tmp/tandem-tls-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return nil }
        let dir = String(cString: made)
        let status = shell("bash '\(TestEnvironment.repositoryRoot)/scripts/test-certs.sh' '\(dir)' >/dev/null 2>&1")
        return status == 0 ? dir : nil
    }()

    /// Path of `name` (`server.pem`, `client.key`, `cadir`…) in the certificate directory.
    public static func path(_ name: String) throws -> String {
        guard let directory else { throw Unavailable() }
        return "\(directory)/\(name)"
    }
}
