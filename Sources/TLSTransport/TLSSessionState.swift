/// Where a ``TLSSession`` is in its life.
public enum TLSSessionState: Sendable, Equatable {
    /// Handshake messages are still being exchanged; plaintext sent now is queued until it ends.
    case handshaking
    /// Application data flows both ways.
    case established
    /// This end sent close_notify and waits for the peer's.
    case closing
    /// Both close_notify alerts went (or the peer's came and ours was queued): write the output, then close.
    case closed
    /// The session failed; write any output (an alert) and close the connection.
    case failed(TLSError)

    /// True once no more application data can flow (closed or failed).
    public var isFinished: Bool {
        switch self {
        case .closed, .failed: true
        case .handshaking, .established, .closing: false
        }
    }
}

/// The identity in the peer's certificate, for logs.
public struct TLSPeerCertificate: Sendable, Equatable, CustomStringConvertible {
    /// Subject distinguished name, OpenSSL's one-line form (`/CN=client.example`).
    public var subject: String
    /// Issuer distinguished name, same form.
    public var issuer: String

    /// A certificate identity.
    public init(subject: String, issuer: String) {
        self.subject = subject
        self.issuer = issuer
    }

    public var description: String { "subject \(subject), issuer \(issuer)" }
}

/// The result of verifying the peer's certificate chain.
public struct TLSVerifyResult: Sendable, Equatable, CustomStringConvertible {
    /// OpenSSL's `X509_V_*` code; 0 is success.
    public var code: Int
    /// OpenSSL's text for `code` (`"ok"`, `"unable to get local issuer certificate"`…).
    public var reason: String

    /// True when the chain verified (or was not checked and no error was recorded).
    public var isOK: Bool { code == 0 }

    public var description: String { reason }
}
