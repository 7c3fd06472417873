import Glibc
import TLSTransport
import TandemTestSupport
import Testing

/// TLSSession against `openssl s_server` / `openssl s_client` over real loopback TCP (blocking test sockets).
@Suite(.serialized) struct TLSOpenSSLToolTests {
    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func clientSessionAgainstSServer(version: String) throws {
        let port = Ports.free()
        let server = try BackgroundProcess("""
            exec openssl s_server -accept 127.0.0.1:\(port) -cert '\(try TestCertificates.path("server.pem"))' \
            -key '\(try TestCertificates.path("server.key"))' -CAfile '\(try TestCertificates.path("ca.pem"))' \
            -Verify 1 -verify_return_error -rev -naccept 1 \(version)
            """)
        defer { server.stop() }
        let socket = try TestSocket.connect(port: port)
        let session = try TLSContext(TestCertificates.client()).makeSession(peer: "s_server", nowMs: nowMs())
        try session.send(plaintext: Array("hello tandem\n".utf8))
        let reply = drive(session, over: socket) { String(decoding: $0, as: UTF8.self).contains("\n") }
        #expect(session.state == .established, "\(session.state); s_server: \(server.output)")
        #expect(session.protocolVersion == (version == "-tls1_2" ? "TLSv1.2" : "TLSv1.3"))
        #expect(String(decoding: reply, as: UTF8.self).contains("mednat olleh"))
        session.close()
        socket.write(session.takeOutput())
    }

    @Test func sServerRequiringCertificateRefusesClientWithout() throws {
        let port = Ports.free()
        let server = try BackgroundProcess("""
            exec openssl s_server -accept 127.0.0.1:\(port) -cert '\(try TestCertificates.path("server.pem"))' \
            -key '\(try TestCertificates.path("server.key"))' -CAfile '\(try TestCertificates.path("ca.pem"))' \
            -Verify 1 -verify_return_error -rev -naccept 1 -tls1_2
            """)
        defer { server.stop() }
        let socket = try TestSocket.connect(port: port)
        let session = try TLSContext(TestCertificates.client(certificate: nil)).makeSession(peer: "s_server")
        _ = drive(session, over: socket) { _ in false }
        let error = try #require(failure(of: session))
        #expect(error.reason.contains("alert"), "\(error)")
    }

    @Test func clientVerifyRejectsSServerOfOtherCA() throws {
        let port = Ports.free()
        let server = try BackgroundProcess("""
            exec openssl s_server -accept 127.0.0.1:\(port) -cert '\(try TestCertificates.path("server.pem"))' \
            -key '\(try TestCertificates.path("server.key"))' -rev -naccept 1
            """)
        defer { server.stop() }
        let socket = try TestSocket.connect(port: port)
        let session = try TLSContext(TestCertificates.client(ca: "other-ca")).makeSession(peer: "127.0.0.1:\(port)")
        _ = drive(session, over: socket) { _ in false }
        let error = try #require(failure(of: session))
        #expect(error.code == .certificateVerification)
        #expect(error.reason.contains("unable to get local issuer certificate"))
        #expect(error.message.contains("127.0.0.1:\(port)"))
    }

    @Test(arguments: [true, false])
    func serverSessionAgainstSClient(withCertificate: Bool) throws {
        let port = Ports.free()
        let listener = try TestSocket.listen(port: port)
        let dir = try #require(TestCertificates.directory)
        let fifo = "\(dir)/stdin-\(port)"
        try #require(mkfifo(fifo, 0o600) == 0)
        let certificate = withCertificate
            ? "-cert '\(try TestCertificates.path("client.pem"))' -key '\(try TestCertificates.path("client.key"))'" : ""
        let client = try BackgroundProcess("""
            exec openssl s_client -connect 127.0.0.1:\(port) -CAfile '\(try TestCertificates.path("ca.pem"))' \
            \(certificate) -servername localhost -verify_return_error -quiet
            """, stdinPath: fifo)
        defer { client.stop() }
        // Opening the FIFO for writing waits for s_client's shell to open it for reading.
        let input = open(fifo, O_WRONLY)
        defer { close(input) }
        let socket = try listener.accept()
        let session = try TLSContext(TestCertificates.server(require: true)).makeSession(peer: "s_client")
        _ = "OPTIONS sip:tandem SIP/2.0\n".withCString { write(input, $0, strlen($0)) }
        let request = drive(session, over: socket) { String(decoding: $0, as: UTF8.self).contains("\n") }
        if withCertificate {
            #expect(String(decoding: request, as: UTF8.self) == "OPTIONS sip:tandem SIP/2.0\n", "s_client: \(client.output)")
            #expect(session.serverName == "localhost")
            #expect(session.peerCertificate?.subject.contains("client.tandem.test") == true)
            try session.send(plaintext: Array("SIP/2.0 200 OK\n".utf8))
            socket.write(session.takeOutput())
            let start = nowMs()
            while !client.output.contains("SIP/2.0 200 OK") && nowMs() - start < 5000 { usleep(20_000) }
            #expect(client.output.contains("SIP/2.0 200 OK"))
        } else {
            let error = try #require(failure(of: session), "s_client: \(client.output)")
            #expect(error.code == .certificateVerification)
            #expect(error.reason.contains("peer did not return a certificate"))
        }
    }
}
