/// A TLS failure: what went wrong, with OpenSSL's reason strings and, for files, the path and OS reason.
///
/// ```swift
/// do { _ = try TLSContext(configuration) } catch { print(error) }
/// // "cannot read certificate /etc/tandem/tls/cert.pem: No such file or directory"
/// ```
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// A file (certificate, key, CA list, CA dir, DH params) cannot be opened.
        case fileUnreadable
        /// A file was read but OpenSSL cannot use it (not PEM, wrong type).
        case fileInvalid
        /// The private key does not belong to the certificate.
        case keyMismatch
        /// A setting OpenSSL refused (cipher list, curve, version range) or a resource it could not create.
        case configuration
        /// The peer's certificate failed verification (or was missing when required).
        case certificateVerification
        /// The handshake failed for another reason (protocol version, cipher, alert from the peer).
        case handshake
        /// The handshake did not finish before its deadline.
        case handshakeTimeout
        /// A protocol error after the handshake (bad record, unexpected alert).
        case protocolError
        /// Data was sent on a session that is closing, closed or failed.
        case closed
    }

    /// The kind of failure.
    public var code: Code
    /// One-line description (includes `reason` when there is one).
    public var message: String
    /// OpenSSL's reason strings (error queue, verification result), joined with "; "; empty if none.
    public var reason: String

    /// An error of `code` with `message` and OpenSSL's `reason`.
    public init(_ code: Code, _ message: String, reason: String = "") {
        self.code = code
        self.message = message
        self.reason = reason
    }

    public var description: String { reason.isEmpty ? message : "\(message): \(reason)" }
}
