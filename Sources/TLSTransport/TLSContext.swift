import COpenSSL

/// An OpenSSL `SSL_CTX` built once from a ``TLSContextConfiguration``: certificate and key loaded and
/// checked against each other, CAs, verification mode, versions, ciphers, groups. Sessions are made from it.
///
/// ```swift
/// let server = try TLSContext(serverConfiguration)
/// let session = try server.makeSession(peer: "192.0.2.7:40312", nowMs: clock.nowMs)
/// ```
///
/// `@unchecked Sendable`: the `SSL_CTX` is only configured in `init` and never changed after; OpenSSL
/// allows sessions to be created from one context on several threads at once.
public final class TLSContext: @unchecked Sendable {
    /// The settings the context was built from.
    public let configuration: TLSContextConfiguration
    let handle: OpaquePointer

    let selector: ServerNameSelector?

    /// Builds the context; throws a ``TLSError`` naming the file or setting OpenSSL refused.
    ///
    /// Servers: `serverNameSelector` is asked, during a handshake whose ClientHello carries SNI, for the
    /// context of that name (another `tls_mgm` server domain); the session then continues with that
    /// context's certificate, CAs and verification mode. Nil from it keeps this context.
    public init(_ configuration: TLSContextConfiguration,
                serverNameSelector: (@Sendable (String) -> TLSContext?)? = nil) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        let method = configuration.role == .server ? TLS_server_method() : TLS_client_method()
        guard let handle = SSL_CTX_new(method) else {
            throw TLSError(.configuration, "cannot create a TLS context", reason: OpenSSLErrorQueue.drain())
        }
        self.configuration = configuration
        self.handle = handle
        self.selector = serverNameSelector.map(ServerNameSelector.init)
        try configure()
        if configuration.role == .server, let selector {
            tandem_ssl_ctx_set_servername_callback(handle, { ssl, _, argument in
                guard let ssl, let argument, let name = tandem_ssl_get_servername(ssl) else { return tandem_tlsext_err_ok() }
                let selector = Unmanaged<ServerNameSelector>.fromOpaque(argument).takeUnretainedValue()
                guard let other = selector.select(String(cString: name)) else { return tandem_tlsext_err_ok() }
                _ = SSL_set_SSL_CTX(ssl, other.handle)
                SSL_set_verify(ssl, SSL_CTX_get_verify_mode(other.handle), SSL_CTX_get_verify_callback(other.handle))
                return tandem_tlsext_err_ok()
            }, Unmanaged.passUnretained(selector).toOpaque())
        }
    }

    deinit { SSL_CTX_free(handle) }

    /// A new session of this context's role for one connection. `peer` names the other end in errors and
    /// logs; `serverName` overrides the configured SNI name (clients); `nowMs` starts the handshake deadline.
    public func makeSession(peer: String = "", serverName: String? = nil, nowMs: UInt64 = 0) throws(TLSError) -> TLSSession {
        try TLSSession(context: self, peer: peer, serverName: serverName ?? configuration.serverName, nowMs: nowMs)
    }

    private func configure() throws(TLSError) {
        let c = configuration
        _ = tandem_ssl_ctx_set_mode(handle, Int(SSL_MODE_RELEASE_BUFFERS))
        guard tandem_ssl_ctx_set_min_proto_version(handle, Int32(c.versions.minimum.rawValue)) == 1,
              tandem_ssl_ctx_set_max_proto_version(handle, Int32(c.versions.maximum.rawValue)) == 1 else {
            throw TLSError(.configuration, "TLS versions \(c.versions) refused", reason: OpenSSLErrorQueue.drain())
        }
        if let certificate = c.certificatePath {
            try FileCheck.readable(certificate, what: "certificate")
            guard SSL_CTX_use_certificate_chain_file(handle, certificate) == 1 else {
                throw TLSError(.fileInvalid, "certificate \(certificate) is not a usable PEM certificate",
                               reason: OpenSSLErrorQueue.drain())
            }
        } else if c.role == .server {
            throw TLSError(.configuration, "a TLS server needs a certificate and a private key")
        }
        if let key = c.privateKeyPath {
            try FileCheck.readable(key, what: "private key")
            guard SSL_CTX_use_PrivateKey_file(handle, key, SSL_FILETYPE_PEM) == 1 else {
                let reason = OpenSSLErrorQueue.drain()
                if let certificate = c.certificatePath, reason.contains("mismatch") {
                    throw TLSError(.keyMismatch, "private key \(key) does not match certificate \(certificate)",
                                   reason: reason)
                }
                throw TLSError(.fileInvalid, "private key \(key) is not a usable PEM private key", reason: reason)
            }
            if let certificate = c.certificatePath, SSL_CTX_check_private_key(handle) != 1 {
                throw TLSError(.keyMismatch, "private key \(key) does not match certificate \(certificate)",
                               reason: OpenSSLErrorQueue.drain())
            }
        } else if c.certificatePath != nil {
            throw TLSError(.configuration, "certificate \(c.certificatePath!) has no private key")
        }
        if let file = c.caListPath { try FileCheck.readable(file, what: "CA list") }
        if let dir = c.caDirectory { try FileCheck.readable(dir, what: "CA directory", directory: true) }
        if c.caListPath != nil || c.caDirectory != nil {
            guard SSL_CTX_load_verify_locations(handle, c.caListPath, c.caDirectory) == 1 else {
                throw TLSError(.fileInvalid, "CA list \(c.caListPath ?? c.caDirectory ?? "") cannot be loaded",
                               reason: OpenSSLErrorQueue.drain())
            }
            if c.role == .server, let file = c.caListPath, let names = SSL_load_client_CA_file(file) {
                SSL_CTX_set_client_CA_list(handle, names)
            }
        } else if c.role == .client && c.verifyCertificate {
            // No CA configured: verify next hops against the system's CAs.
            _ = SSL_CTX_set_default_verify_paths(handle)
            OpenSSLErrorQueue.clear()
        }
        try configureVerification()
        try configureCiphers()
        try configureKeyExchange()
    }

    private func configureVerification() throws(TLSError) {
        let c = configuration
        switch c.role {
        case .server:
            if c.requireCertificate || c.verifyCertificate {
                var mode = SSL_VERIFY_PEER
                if c.requireCertificate { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
                // require_cert without verify_cert: a certificate must be sent, any will do.
                let callback: SSL_verify_cb = c.verifyCertificate ? tandem_verify_keeping_refused_certificate
                    : tandem_accept_any_certificate
                SSL_CTX_set_verify(handle, mode, callback)
            } else {
                SSL_CTX_set_verify(handle, SSL_VERIFY_NONE, nil)
            }
        case .client:
            if c.verifyCertificate {
                SSL_CTX_set_verify(handle, SSL_VERIFY_PEER, tandem_verify_keeping_refused_certificate)
            } else {
                SSL_CTX_set_verify(handle, SSL_VERIFY_NONE, nil)
            }
        }
    }

    private func configureCiphers() throws(TLSError) {
        guard let list = configuration.ciphers?.trimmingWhitespace(), !list.isEmpty, list != "NULL" else { return }
        let names = list.split(separator: ":").map(String.init)
        let suites13 = names.filter { $0.hasPrefix("TLS_") }
        let suites12 = names.filter { !$0.hasPrefix("TLS_") }
        if !suites12.isEmpty, SSL_CTX_set_cipher_list(handle, suites12.joined(separator: ":")) != 1 {
            throw TLSError(.configuration, "ciphers_list '\(list)' names no usable TLS 1.2 cipher",
                           reason: OpenSSLErrorQueue.drain())
        }
        if !suites13.isEmpty, SSL_CTX_set_ciphersuites(handle, suites13.joined(separator: ":")) != 1 {
            throw TLSError(.configuration, "ciphers_list '\(list)' names no usable TLS 1.3 cipher suite",
                           reason: OpenSSLErrorQueue.drain())
        }
    }

    private func configureKeyExchange() throws(TLSError) {
        let c = configuration
        if let curve = c.ecCurve?.trimmingWhitespace(), !curve.isEmpty,
           tandem_ssl_ctx_set1_groups_list(handle, curve) != 1 {
            throw TLSError(.configuration, "ec_curve '\(curve)' is not a group OpenSSL knows",
                           reason: OpenSSLErrorQueue.drain())
        }
        guard let path = c.dhParamsPath else {
            _ = tandem_ssl_ctx_set_dh_auto(handle)
            return
        }
        try FileCheck.readable(path, what: "DH parameters")
        guard let bio = BIO_new_file(path, "r") else {
            throw TLSError(.fileUnreadable, "cannot read DH parameters \(path)", reason: OpenSSLErrorQueue.drain())
        }
        defer { BIO_free(bio) }
        guard let parameters = PEM_read_bio_Parameters(bio, nil) else {
            throw TLSError(.fileInvalid, "DH parameters \(path) are not PEM DH parameters",
                           reason: OpenSSLErrorQueue.drain())
        }
        // On success the context owns the parameters.
        guard SSL_CTX_set0_tmp_dh_pkey(handle, parameters) == 1 else {
            EVP_PKEY_free(parameters)
            throw TLSError(.configuration, "DH parameters \(path) refused", reason: OpenSSLErrorQueue.drain())
        }
    }
}

/// Holds a server context's SNI selector for OpenSSL's callback (passed unretained: the context keeps it).
final class ServerNameSelector: Sendable {
    let select: @Sendable (String) -> TLSContext?

    init(_ select: @escaping @Sendable (String) -> TLSContext?) { self.select = select }
}
