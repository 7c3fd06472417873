import TLSTransport
import TandemTestSupport
import Testing

/// Building contexts from tls_mgm-style settings: files, key/certificate match, versions, ciphers, groups.
@Suite struct TLSContextTests {
    @Test func missingCertificateNamesPathAndOSReason() throws {
        var c = try TestCertificates.server()
        c.certificatePath = "/nonexistent/tandem/cert.pem"
        let e = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(e.code == .fileUnreadable)
        #expect(e.message.contains("certificate /nonexistent/tandem/cert.pem"))
        #expect(e.reason == "No such file or directory")
    }

    @Test func missingCAListAndDirectory() throws {
        var c = try TestCertificates.server()
        c.caListPath = "/nonexistent/ca.pem"
        #expect(throws: TLSError.self) { try TLSContext(c) }
        c.caListPath = nil
        c.caDirectory = try TestCertificates.path("ca.pem")  // a file, not a directory
        let e = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(e.reason == "Not a directory")
        c.caDirectory = try TestCertificates.path("cadir")
        _ = try TLSContext(c)
    }

    @Test func keyNotMatchingCertificate() throws {
        var c = try TestCertificates.server()
        c.privateKeyPath = try TestCertificates.path("client.key")
        let e = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(e.code == .keyMismatch)
        #expect(e.message.contains("client.key") && e.message.contains("server.pem"))
        #expect(!e.reason.isEmpty)
    }

    @Test func notPEM() throws {
        var c = try TestCertificates.server()
        c.certificatePath = try TestCertificates.path("dh.pem")
        let e = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(e.code == .fileInvalid)
    }

    @Test func serverNeedsCertificate() throws {
        var c = try TestCertificates.server()
        c.certificatePath = nil
        c.privateKeyPath = nil
        let e = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(e.code == .configuration)
    }

    @Test func ciphersCurvesAndDHParams() throws {
        var c = try TestCertificates.server()
        c.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256"
        c.ecCurve = "prime256v1"
        c.dhParamsPath = try TestCertificates.path("dh.pem")
        _ = try TLSContext(c)
        c.ciphers = "NO-SUCH-CIPHER"
        let cipher = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(cipher.message.contains("NO-SUCH-CIPHER"))
        c.ciphers = nil
        c.ecCurve = "no-such-curve"
        let curve = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(curve.message.contains("no-such-curve"))
        c.ecCurve = nil
        c.dhParamsPath = try TestCertificates.path("ca.pem")
        let dh = try #require(#expect(throws: TLSError.self) { try TLSContext(c) })
        #expect(dh.code == .fileInvalid)
    }

    @Test func cipherListIsApplied() throws {
        var server = try TestCertificates.server(versions: TLSVersionRange(minimum: .tls1_2, maximum: .tls1_2))
        server.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"
        let s = try TLSContext(server).makeSession()
        let c = try TLSContext(TestCertificates.client()).makeSession()
        pump(c, s)
        #expect(s.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256")
    }

    @Test(arguments: [
        ("TLSv1_2", TLSVersionRange(minimum: .tls1_2, maximum: .tls1_2)),
        ("TLSv1_3", TLSVersionRange(minimum: .tls1_3, maximum: .tls1_3)),
        ("SSLv23", TLSVersionRange.all),
        ("TLSv1_2-TLSv1_3", TLSVersionRange.all),
        ("TLSv1.3-", TLSVersionRange(minimum: .tls1_3, maximum: .tls1_3)),
        ("-TLSv1_2", TLSVersionRange(minimum: .tls1_2, maximum: .tls1_2)),
    ])
    func tlsMethodParsing(text: String, expected: TLSVersionRange) throws {
        #expect(try TLSVersionRange.parse(text) == expected)
    }

    @Test func tlsMethodRefused() {
        #expect(throws: TLSVersionRange.ParseError.obsolete("TLSv1")) { try TLSVersionRange.parse("TLSv1") }
        #expect(throws: TLSVersionRange.ParseError.unknown("TLSv9")) { try TLSVersionRange.parse("TLSv9") }
        #expect(throws: TLSVersionRange.ParseError.emptyRange("TLSv1_3-TLSv1_2")) {
            try TLSVersionRange.parse("TLSv1_3-TLSv1_2")
        }
    }
}
