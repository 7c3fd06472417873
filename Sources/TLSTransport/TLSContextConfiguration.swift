/// Which end of the handshake a context's sessions play.
public enum TLSRole: String, Sendable, Equatable {
    /// Accepts connections (a `server_domain`): presents its certificate, may ask for the client's.
    case server
    /// Opens connections (a `client_domain`): sends SNI, verifies the server's certificate.
    case client
}

/// What a ``TLSContext`` is built from: one `tls_mgm` domain's settings.
///
/// ```swift
/// var c = TLSContextConfiguration(role: .server)
/// c.certificatePath = "/etc/tandem/tls/server.pem"
/// c.privateKeyPath = "/etc/tandem/tls/server.key"
/// c.caListPath = "/etc/tandem/tls/ca.pem"
/// c.requireCertificate = true
/// let context = try TLSContext(c)
/// ```
public struct TLSContextConfiguration: Sendable, Equatable {
    /// Server or client sessions.
    public var role: TLSRole
    /// PEM certificate (chain) file; required for servers, optional for clients (mutual TLS).
    public var certificatePath: String?
    /// PEM private key file of `certificatePath`.
    public var privateKeyPath: String?
    /// PEM file of trusted CA certificates (`ca_list`).
    public var caListPath: String?
    /// Directory of hashed CA certificates (`ca_dir`).
    public var caDirectory: String?
    /// Verify the peer's certificate against the CAs (`verify_cert`). Default on.
    public var verifyCertificate: Bool
    /// Servers: refuse a client that sends no certificate (`require_cert`). Default on.
    public var requireCertificate: Bool
    /// Accepted protocol versions (`tls_method`).
    public var versions: TLSVersionRange
    /// OpenSSL cipher list (`ciphers_list`); `TLS_*` names go to the TLS 1.3 suites. Nil: OpenSSL's default.
    public var ciphers: String?
    /// PEM DH parameters file (`dh_params`); nil: OpenSSL's built-in groups.
    public var dhParamsPath: String?
    /// Key exchange group(s) (`ec_curve`), e.g. `prime256v1` or `X25519:P-256`; nil: OpenSSL's default.
    public var ecCurve: String?
    /// Clients: the SNI host name sent in the ClientHello (`server_name`); a session may override it.
    public var serverName: String?
    /// Milliseconds a handshake may take before the transport closes the connection.
    public var handshakeTimeoutMs: UInt64

    /// Default handshake timeout (ms).
    public static let defaultHandshakeTimeoutMs: UInt64 = 5_000

    /// Settings for `role` with `tls_mgm`'s defaults: verify and require certificates, TLS 1.2 and 1.3.
    public init(role: TLSRole) {
        self.role = role
        verifyCertificate = true
        requireCertificate = true
        versions = .all
        handshakeTimeoutMs = Self.defaultHandshakeTimeoutMs
    }
}
