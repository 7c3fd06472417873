import Testing
@testable import TandemScript

/// Digest authentication arithmetic (issue 16): RFC 7616 §3.9.1's example, signed nonces.
@Suite struct DigestAuthTests {
    /// RFC 7616 §3.9.1: Mufasa / "Circle of Life", GET /dir/index.html, qop auth, nc 00000001.
    func rfcCredentials(_ algorithm: DigestAlgorithm, response: String) -> DigestCredentials? {
        DigestCredentials(parsing: """
            Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", \
            algorithm=\(algorithm.rawValue), nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, \
            cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="\(response)", \
            opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
            """)
    }

    @Test("Credentials parsing: scheme and names case-insensitive, escapes, unquoted values, spaces; required fields")
    func credentialsFieldParsing() throws {
        let header = "  DIGEST UserName = \"a\\\"b\" ,Realm=\"example.com\",nonce=\"n1\", URI=\"sip:x@example.com\", "
            + "response=\"ABCDEF\",qop=auth, NC=00000002 ,cnonce=\"c n\",algorithm=md5,unknown=\"x,y\""
        let parsed = try #require(DigestCredentials(parsing: header))
        #expect(parsed.username == "a\"b")
        #expect(parsed.realm == "example.com" && parsed.nonce == "n1" && parsed.uri == "sip:x@example.com")
        #expect(parsed.response == "abcdef" && parsed.qop == "auth" && parsed.nc == "00000002")
        #expect(parsed.cnonce == "c n" && parsed.algorithm == .md5 && parsed.opaque == nil)
        #expect(DigestCredentials(parsing: "Basic dXNlcjpwdw==") == nil)
        #expect(DigestCredentials(parsing: "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\"") == nil)
        #expect(DigestCredentials(parsing: "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
                                  + "response=\"r\", algorithm=SHA-512") == nil)
    }

    @Test("RFC 7616 example: the MD5 and SHA-256 responses")
    func rfc7616Vectors() throws {
        for (algorithm, expected) in [(DigestAlgorithm.md5, "8ca523f5e9506fed4657c9700eebdbec"),
                                      (.sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")] {
            let credentials = try #require(rfcCredentials(algorithm, response: expected))
            #expect(credentials.username == "Mufasa" && credentials.qop == "auth" && credentials.algorithm == algorithm)
            let ha1 = DigestAuth.ha1(algorithm, username: "Mufasa", realm: "http-auth@example.org",
                                     password: "Circle of Life")
            #expect(DigestAuth.expectedResponse(credentials, ha1: ha1, method: "GET") == expected)
        }
    }

    @Test("RFC 4231 test case 2: HMAC-SHA-256")
    func hmac() {
        let mac = DigestAuth.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(DigestAuth.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("Nonces: valid until their expiry, then stale; a changed byte or another secret is invalid")
    func nonces() {
        let nonce = DigestAuth.makeNonce(secret: "s3cret", expires: 1_000, random: 42)
        #expect(nonce.count == 48)
        #expect(DigestAuth.checkNonce(nonce, secret: "s3cret", now: 999) == .valid)
        #expect(DigestAuth.checkNonce(nonce, secret: "s3cret", now: 1_000) == .stale)
        #expect(DigestAuth.checkNonce(nonce, secret: "other", now: 999) == .invalid)
        var tampered = Array(nonce.utf8)
        tampered[3] = tampered[3] == UInt8(ascii: "f") ? UInt8(ascii: "e") : UInt8(ascii: "f")  // a later expiry
        #expect(DigestAuth.checkNonce(String(decoding: tampered, as: UTF8.self), secret: "s3cret", now: 999) == .invalid)
        #expect(DigestAuth.checkNonce("short", secret: "s3cret", now: 0) == .invalid)
    }

    @Test("Credentials: realm selection among several headers; non-Digest refused")
    func credentialsParsing() {
        let values = ["Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                      #"Digest username="bob", realm="a.example", nonce="n", uri="sip:a.example", response="AB""#,
                      #"Digest username="bob2", realm="b.example", nonce="n", uri="sip:b.example", response="cd", algorithm=sha-256"#]
        #expect(DigestCredentials.find(in: values, realm: "b.example")?.username == "bob2")
        #expect(DigestCredentials.find(in: values, realm: "b.example")?.algorithm == .sha256)
        #expect(DigestCredentials.find(in: values, realm: nil)?.response == "ab")
        #expect(DigestCredentials.find(in: values, realm: "c.example") == nil)
    }

    @Test("Nonce counts: each nc once and rising; without qop a nonce is good once")
    func replays() {
        let counters = NonceCounters()
        #expect(counters.accept(nonce: "n1", nc: 1, expires: 100, now: 10))
        #expect(!counters.accept(nonce: "n1", nc: 1, expires: 100, now: 10))
        #expect(counters.accept(nonce: "n1", nc: 2, expires: 100, now: 10))
        #expect(!counters.accept(nonce: "n1", nc: 1, expires: 100, now: 10))
        #expect(counters.accept(nonce: "n2", nc: nil, expires: 100, now: 10))
        #expect(!counters.accept(nonce: "n2", nc: nil, expires: 100, now: 10))
    }

    @Test("Nonce counts: the same nc from the same request (a retransmission) is accepted again, from another request not")
    func retransmissions() {
        let counters = NonceCounters()
        let first = NonceCounters.requestIdentity(callID: "c1", cseq: "2", branch: "z9hG4bK-a")
        let other = NonceCounters.requestIdentity(callID: "c1", cseq: "3", branch: "z9hG4bK-b")
        #expect(first != other && first != 0)
        #expect(counters.accept(nonce: "n1", nc: 1, request: first, expires: 100, now: 10))
        #expect(counters.accept(nonce: "n1", nc: 1, request: first, expires: 100, now: 10))
        #expect(!counters.accept(nonce: "n1", nc: 1, request: other, expires: 100, now: 10))
        #expect(!counters.accept(nonce: "n1", nc: 1, expires: 100, now: 10))
        #expect(counters.accept(nonce: "n1", nc: 2, request: other, expires: 100, now: 10))
        // nc 1 is behind now, even from the request that used it.
        #expect(!counters.accept(nonce: "n1", nc: 1, request: first, expires: 100, now: 10))
        #expect(counters.accept(nonce: "n2", nc: nil, request: first, expires: 100, now: 10))
        #expect(counters.accept(nonce: "n2", nc: nil, request: first, expires: 100, now: 10))
        #expect(!counters.accept(nonce: "n2", nc: nil, request: other, expires: 100, now: 10))
    }
}
