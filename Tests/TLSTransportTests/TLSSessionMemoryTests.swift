import TLSTransport
import TandemTestSupport
import Testing

/// TLSSession server ↔ TLSSession client in memory, with real OpenSSL and test-time certificates.
@Suite struct TLSSessionMemoryTests {
    func pair(server: TLSContextConfiguration, client: TLSContextConfiguration) throws -> (TLSSession, TLSSession) {
        let s = try TLSContext(server).makeSession(peer: "client", nowMs: 0)
        let c = try TLSContext(client).makeSession(peer: "server", nowMs: 0)
        return (c, s)
    }

    @Test(arguments: [TLSVersion.tls1_2, .tls1_3])
    func handshakeAndDataBothWays(version: TLSVersion) throws {
        let only = TLSVersionRange(minimum: version, maximum: version)
        let (client, server) = try pair(server: TestCertificates.server(versions: only),
                                        client: TestCertificates.client(versions: .all))
        #expect(client.wantsWrite)  // ClientHello ready before any byte came in
        try client.send(plaintext: Array("queued before the handshake".utf8))
        let early = pump(client, server)
        #expect(client.state == .established)
        #expect(server.state == .established)
        #expect(client.protocolVersion == version.description)
        #expect(server.protocolVersion == version.description)
        #expect(String(decoding: early.byServer, as: UTF8.self) == "queued before the handshake")
        #expect(server.peerCertificate?.subject.contains("client.tandem.test") == true)
        #expect(server.peerCertificate?.issuer.contains("Tandem test CA") == true)
        #expect(client.peerCertificate?.subject.contains("localhost") == true)
        #expect(client.verifyResult.isOK && server.verifyResult.isOK)
        #expect(server.serverName == "localhost")  // SNI sent by the client, seen by the server
        #expect(client.cipher != nil)

        try client.send(plaintext: Array("REGISTER".utf8))
        try server.send(plaintext: Array("SIP/2.0 200 OK".utf8))
        let received = pump(client, server)
        #expect(String(decoding: received.byServer, as: UTF8.self) == "REGISTER")
        #expect(String(decoding: received.byClient, as: UTF8.self) == "SIP/2.0 200 OK")
    }

    @Test func largeDataInPieces() throws {
        let (client, server) = try pair(server: TestCertificates.server(), client: TestCertificates.client())
        pump(client, server)
        var generator = UInt32(7)
        let big = (0..<1_000_000).map { _ -> UInt8 in
            generator = generator &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: generator >> 16)
        }
        try client.send(plaintext: big)
        try server.send(plaintext: Array(big.reversed()))
        let received = pump(client, server, pieceSize: 1_000)  // ciphertext reaches the server 1,000 bytes at a time
        #expect(received.byServer == big)
        #expect(received.byClient == Array(big.reversed()))
    }

    @Test func closeNotifyBothWays() throws {
        let (client, server) = try pair(server: TestCertificates.server(), client: TestCertificates.client())
        pump(client, server)
        client.close()
        #expect(client.state == .closing)
        #expect(client.wantsWrite)
        pump(client, server)
        #expect(server.state == .closed)  // got close_notify, answered with its own
        #expect(client.state == .closed)  // got the answer
        #expect(throws: TLSError.self) { try client.send(plaintext: [1]) }
        #expect((try? server.send(plaintext: [1])) == nil)
    }

    @Test func requireCertRefusesClientWithoutCertificate() throws {
        let (client, server) = try pair(server: TestCertificates.server(require: true),
                                        client: TestCertificates.client(certificate: nil))
        pump(client, server)
        let error = try #require(failure(of: server))
        #expect(error.code == .certificateVerification)
        #expect(error.reason.contains("peer did not return a certificate"))
        #expect(error.message.contains("client"))  // the peer's name
        // TLS 1.3: the client learns it from the server's alert.
        let clientError = try #require(failure(of: client))
        #expect(clientError.reason.contains("certificate required") || clientError.reason.contains("alert"))
    }

    @Test func requireCertRefusesCertificateFromAnotherCA() throws {
        let (client, server) = try pair(server: TestCertificates.server(require: true),
                                        client: TestCertificates.client(certificate: "bad-client"))
        pump(client, server)
        let error = try #require(failure(of: server))
        #expect(error.code == .certificateVerification)
        #expect(error.reason.contains("unable to get local issuer certificate"))
        #expect(error.message.contains("bad.tandem.test"))  // the refused certificate's subject
        #expect(server.verifyResult.isOK == false)
        #expect(failure(of: client) != nil)
    }

    @Test func requireCertWithoutVerifyAcceptsAnyCertificate() throws {
        let (client, server) = try pair(server: TestCertificates.server(require: true, verify: false),
                                        client: TestCertificates.client(certificate: "bad-client"))
        pump(client, server)
        #expect(server.state == .established)
        #expect(server.peerCertificate?.subject.contains("bad.tandem.test") == true)
    }

    @Test func noClientCertificateNeededWhenNotRequired() throws {
        let (client, server) = try pair(server: TestCertificates.server(require: false, verify: false),
                                        client: TestCertificates.client(certificate: nil))
        pump(client, server)
        #expect(server.state == .established)
        #expect(server.peerCertificate == nil)
    }

    @Test func clientVerifyCertRejectsServerOfWrongCA() throws {
        let (client, server) = try pair(server: TestCertificates.server(require: false),
                                        client: TestCertificates.client(ca: "other-ca"))
        pump(client, server)
        let error = try #require(failure(of: client))
        #expect(error.code == .certificateVerification)
        // The server sends its chain up to the CA it trusts: a root the client does not know.
        #expect(error.reason.contains("certificate verify failed (self-signed certificate in certificate chain)"))
        #expect(error.message.contains("localhost"))  // the refused certificate's subject
        #expect(server.state != .established)
    }

    @Test func clientWithoutVerifyAcceptsServerOfWrongCA() throws {
        let (client, server) = try pair(server: TestCertificates.server(require: false),
                                        client: TestCertificates.client(ca: "other-ca", verify: false))
        pump(client, server)
        #expect(client.state == .established)
        #expect(client.verifyResult.isOK == false)  // recorded for logs, not enforced
    }

    @Test func tlsMethodLimitsVersions() throws {
        let (client, server) = try pair(
            server: TestCertificates.server(versions: TLSVersionRange(minimum: .tls1_3, maximum: .tls1_3)),
            client: TestCertificates.client(versions: TLSVersionRange(minimum: .tls1_2, maximum: .tls1_2)))
        pump(client, server)
        let error = try #require(failure(of: server))
        #expect(error.code == .handshake)
        #expect(error.reason.contains("protocol"))
        #expect(failure(of: client) != nil)
    }

    @Test func handshakeDeadline() throws {
        let context = try TLSContext(TestCertificates.server())
        let session = try context.makeSession(peer: "192.0.2.1:5061", nowMs: 1_000)
        #expect(session.handshakeDeadlineMs == 1_000 + TLSContextConfiguration.defaultHandshakeTimeoutMs)
        #expect(session.checkDeadline(nowMs: session.handshakeDeadlineMs - 1) == false)
        #expect(session.state == .handshaking)
        #expect(session.checkDeadline(nowMs: session.handshakeDeadlineMs))
        let error = try #require(failure(of: session))
        #expect(error.code == .handshakeTimeout)
        #expect(error.message.contains("192.0.2.1:5061"))
        #expect(throws: TLSError.self) { try session.receive(ciphertext: [22, 3, 1]) }
        // An established session ignores the deadline.
        let (client, server) = try pair(server: TestCertificates.server(), client: TestCertificates.client())
        pump(client, server)
        #expect(server.checkDeadline(nowMs: .max) == false)
    }

    @Test func garbageFailsTheHandshake() throws {
        let session = try TLSContext(TestCertificates.server()).makeSession(peer: "junk")
        #expect(throws: TLSError.self) { try session.receive(ciphertext: Array("INVITE sip:a@b SIP/2.0\r\n\r\n".utf8)) }
        #expect(failure(of: session)?.code == .handshake)
    }

    @Test func serverSwitchesContextOnSNI() throws {
        var alternative = try TestCertificates.server(require: false)
        alternative.certificatePath = try TestCertificates.path("client.pem")  // CN=client.tandem.test
        alternative.privateKeyPath = try TestCertificates.path("client.key")
        let other = try TLSContext(alternative)
        let main = try TLSContext(TestCertificates.server(require: true),
                                  serverNameSelector: { $0 == "alt.tandem.test" ? other : nil })
        for (name, subject) in [("alt.tandem.test", "client.tandem.test"), ("localhost", "localhost")] {
            let server = try main.makeSession(peer: "client")
            let client = try TLSContext(TestCertificates.client(certificate: nil, serverName: name)).makeSession()
            pump(client, server)
            #expect(client.peerCertificate?.subject.contains(subject) == true, "\(name)")
            #expect(server.serverName == name)
            // The alternative context does not require a client certificate; the main one does.
            #expect((server.state == .established) == (name == "alt.tandem.test"), "\(name): \(server.state)")
        }
    }

    @Test func sniNotSentForIPLiteral() throws {
        let (client, server) = try pair(server: TestCertificates.server(),
                                        client: TestCertificates.client(serverName: "127.0.0.1"))
        pump(client, server)
        #expect(client.state == .established)
        #expect(server.serverName == nil)
    }
}
