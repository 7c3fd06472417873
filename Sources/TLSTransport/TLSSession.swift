import COpenSSL
import Glibc
import Logging

/// One TLS connection's protocol state, driven by bytes only: feed what the socket read to
/// ``receive(ciphertext:)`` (it returns the decrypted application data), give plaintext to
/// ``send(plaintext:)``, and write ``takeOutput()`` to the socket whenever ``wantsWrite`` is true.
/// OpenSSL works on two memory BIOs, so no call ever touches a socket or blocks.
///
/// ```swift
/// let plaintext = try session.receive(ciphertext: bytesFromSocket)
/// if session.wantsWrite { socket.write(session.takeOutput()) }
/// if session.state.isFinished { socket.close() }
/// ```
///
/// `@unchecked Sendable`: a session belongs to the worker that owns its connection; every call comes from
/// that worker's thread (it may be handed to another thread only while no call is running).
public final class TLSSession: @unchecked Sendable {
    /// Where the session is; ``TLSSessionState/failed(_:)`` carries the error.
    public private(set) var state: TLSSessionState = .handshaking
    /// Server or client end.
    public let role: TLSRole
    /// The peer as the transport named it (`IP:port`), for errors and logs.
    public let peer: String
    /// Monotonic milliseconds after which a session still handshaking is to be closed (see ``checkDeadline(nowMs:)``).
    public let handshakeDeadlineMs: UInt64
    /// The peer's certificate identity, once the handshake got that far.
    public private(set) var peerCertificate: TLSPeerCertificate?
    /// The SNI name the client asked for (servers) or sent (clients).
    public private(set) var serverName: String?
    /// Logs handshake failures (warning) with the peer and OpenSSL's reason.
    public var logger: Logger

    private let context: TLSContext
    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    private var queued: [UInt8] = []

    init(context: TLSContext, peer: String, serverName: String?, nowMs: UInt64) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.handle) else {
            throw TLSError(.configuration, "cannot create a TLS session", reason: OpenSSLErrorQueue.drain())
        }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.configuration, "cannot create the TLS session's buffers", reason: OpenSSLErrorQueue.drain())
        }
        // An empty input buffer means "more later", not end of file.
        _ = tandem_bio_set_mem_eof_return(input, -1)
        SSL_set_bio(ssl, input, output)  // the session owns both BIOs now
        self.context = context
        self.ssl = ssl
        self.input = input
        self.output = output
        self.role = context.configuration.role
        self.peer = peer
        self.handshakeDeadlineMs = nowMs + context.configuration.handshakeTimeoutMs
        self.logger = Logger(label: "tandem.tls")
        switch role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            if let name = serverName, !name.isEmpty, !Self.isIPLiteral(name) {
                _ = tandem_ssl_set_tlsext_host_name(ssl, name)
                self.serverName = name
            }
            advanceHandshake()  // the ClientHello is output right away
        }
    }

    deinit {
        if let refused = tandem_ssl_refused_certificate(ssl) { X509_free(refused) }
        SSL_free(ssl)
    }

    /// True when ciphertext waits in ``takeOutput()`` (handshake messages, records, alerts).
    public var wantsWrite: Bool { BIO_ctrl_pending(output) > 0 }

    /// The ciphertext produced so far, to write to the socket; empties the output buffer.
    public func takeOutput() -> [UInt8] {
        let count = Int(BIO_ctrl_pending(output))
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let n = BIO_read(output, buffer.baseAddress, Int32(count))
            initialized = max(0, Int(n))
        }
    }

    /// Feeds bytes read from the socket; returns the application data they completed (possibly none).
    /// Throws (and moves to ``TLSSessionState/failed(_:)``) on a handshake or protocol failure; the output
    /// may then hold an alert for the peer. After the peer's close_notify the state is `.closed`.
    public func receive(ciphertext: UnsafeRawBufferPointer) throws(TLSError) -> [UInt8] {
        switch state {
        case .failed(let error): throw error
        case .closed: return []
        case .handshaking, .established, .closing: break
        }
        var offset = 0
        while offset < ciphertext.count {
            let chunk = min(ciphertext.count - offset, 1 << 20)
            let n = BIO_write(input, ciphertext.baseAddress! + offset, Int32(chunk))
            guard n > 0 else { throw fail(TLSError(.configuration, "TLS input buffer refused data")) }
            offset += Int(n)
        }
        if state == .handshaking {
            advanceHandshake()
            if case .failed(let error) = state { throw error }
            if state == .handshaking { return [] }
        }
        return try readPlaintext()
    }

    /// Feeds bytes read from the socket (see ``receive(ciphertext:)-(UnsafeRawBufferPointer)``).
    public func receive(ciphertext: [UInt8]) throws(TLSError) -> [UInt8] {
        let result: Result<[UInt8], TLSError> = ciphertext.withUnsafeBytes { bytes in
            do throws(TLSError) { return .success(try receive(ciphertext: bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Encrypts application data into the output; queued until the handshake ends. Throws `.closed` once
    /// this end is closing or the session is closed or failed.
    public func send(plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        switch state {
        case .handshaking:
            queued.append(contentsOf: plaintext)
        case .established:
            try write(plaintext)
        case .closing, .closed, .failed:
            throw TLSError(.closed, "TLS session with \(peer) is \(state.name): data not sent")
        }
    }

    /// Encrypts application data into the output (see ``send(plaintext:)-(UnsafeRawBufferPointer)``).
    public func send(plaintext: [UInt8]) throws(TLSError) {
        let result: Result<Void, TLSError> = plaintext.withUnsafeBytes { bytes in
            do throws(TLSError) { return .success(try send(plaintext: bytes)) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Sends close_notify (state `.closing`, or `.closed` if the peer's already came). A session still
    /// handshaking just ends (`.closed`, no output).
    public func close() {
        switch state {
        case .established:
            OpenSSLErrorQueue.clear()
            state = SSL_shutdown(ssl) == 1 ? .closed : .closing
            OpenSSLErrorQueue.clear()
        case .handshaking:
            state = .closed
        case .closing, .closed, .failed:
            break
        }
    }

    /// Fails a session still handshaking at or after its deadline (state `.failed`, code
    /// `.handshakeTimeout`, logged); returns true if it did. The transport calls it from its timer.
    @discardableResult
    public func checkDeadline(nowMs: UInt64) -> Bool {
        guard state == .handshaking, nowMs >= handshakeDeadlineMs else { return false }
        _ = fail(TLSError(.handshakeTimeout,
            "TLS handshake with \(peer) did not finish within \(context.configuration.handshakeTimeoutMs) ms"))
        return true
    }

    /// The result of verifying the peer's certificate (`ok` when verification was off or passed).
    public var verifyResult: TLSVerifyResult {
        let code = SSL_get_verify_result(ssl)
        return TLSVerifyResult(code: code, reason: String(cString: X509_verify_cert_error_string(code)))
    }

    /// The negotiated protocol version (`TLSv1.3`), nil before the handshake ends.
    public var protocolVersion: String? {
        state == .established || state == .closing ? String(cString: SSL_get_version(ssl)) : nil
    }

    /// The negotiated cipher suite (`TLS_AES_256_GCM_SHA384`), nil before the handshake ends.
    public var cipher: String? {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return nil }
        return String(cString: name)
    }

    // MARK: - Driving OpenSSL

    private func advanceHandshake() {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .established
            notePeer()
            if !queued.isEmpty {
                let pending = queued
                queued = []
                try? send(plaintext: pending)  // a failure is in `state`
            }
            return
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return }
        notePeer()
        _ = fail(classify(during: "handshake", sslError: error))
    }

    private func readPlaintext() throws(TLSError) -> [UInt8] {
        var plaintext: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            OpenSSLErrorQueue.clear()
            let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 {
                plaintext.append(contentsOf: buffer[0..<Int(n)])
                continue
            }
            let error = SSL_get_error(ssl, n)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return plaintext
            case SSL_ERROR_ZERO_RETURN:
                // The peer's close_notify: answer with ours (unless already sent) and stop.
                if state == .established {
                    OpenSSLErrorQueue.clear()
                    _ = SSL_shutdown(ssl)
                    OpenSSLErrorQueue.clear()
                }
                state = .closed
                return plaintext
            default:
                throw fail(classify(during: "connection", sslError: error))
            }
        }
    }

    private func write(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        var offset = 0
        while offset < plaintext.count {
            let chunk = min(plaintext.count - offset, 1 << 20)
            OpenSSLErrorQueue.clear()
            let n = SSL_write(ssl, plaintext.baseAddress! + offset, Int32(chunk))
            guard n > 0 else {
                throw fail(classify(during: "connection", sslError: SSL_get_error(ssl, n)))
            }
            offset += Int(n)
        }
    }

    /// A typed error from OpenSSL's state after a failed call.
    private func classify(during phase: String, sslError: Int32) -> TLSError {
        var reason = OpenSSLErrorQueue.drain()
        let verify = verifyResult
        if !verify.isOK {
            reason = reason.isEmpty ? verify.reason : "\(reason) (\(verify.reason))"
        }
        if reason.isEmpty {
            reason = sslError == SSL_ERROR_SYSCALL ? "unexpected end of stream" : "SSL error \(sslError)"
        }
        let certificateProblem = !verify.isOK || reason.contains("certificate") || reason.contains("unknown ca")
        let code: TLSError.Code = certificateProblem ? .certificateVerification
            : phase == "handshake" ? .handshake : .protocolError
        var message = "TLS \(phase) with \(peer.isEmpty ? "peer" : peer) failed"
        if certificateProblem, let certificate = peerCertificate { message += " (peer certificate \(certificate))" }
        return TLSError(code, message, reason: reason)
    }

    /// Moves to `.failed(error)`, logs it, and returns it for the caller to throw.
    private func fail(_ error: TLSError) -> TLSError {
        state = .failed(error)
        queued = []
        logger.warning("TLS failure", metadata: [
            "tls.peer": "\(peer)", "tls.role": "\(role.rawValue)", "tls.code": "\(error.code.rawValue)",
            "tls.reason": "\(error.reason)", "tls.peer_certificate": "\(peerCertificate?.description ?? "none")",
        ])
        return error
    }

    private func notePeer() {
        if role == .server, serverName == nil, let name = tandem_ssl_get_servername(ssl) {
            serverName = String(cString: name)
        }
        guard peerCertificate == nil else { return }
        if let certificate = SSL_get1_peer_certificate(ssl) {
            defer { X509_free(certificate) }
            peerCertificate = Self.identity(certificate)
        } else if let refused = tandem_ssl_refused_certificate(ssl) {
            peerCertificate = Self.identity(refused)  // verification failed: OpenSSL dropped the peer's
        }
    }

    private static func identity(_ certificate: OpaquePointer) -> TLSPeerCertificate {
        TLSPeerCertificate(subject: name(X509_get_subject_name(certificate)), issuer: name(X509_get_issuer_name(certificate)))
    }

    private static func name(_ name: OpaquePointer?) -> String {
        guard let name, let text = X509_NAME_oneline(name, nil, 0) else { return "?" }
        defer { tandem_openssl_free(text) }
        return String(cString: text)
    }

    private static func isIPLiteral(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}

extension TLSSessionState {
    var name: String {
        switch self {
        case .handshaking: "handshaking"
        case .established: "established"
        case .closing: "closing"
        case .closed: "closed"
        case .failed: "failed"
        }
    }
}
