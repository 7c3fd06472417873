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

    @Test("RFC 4231 test case 6: HMAC-SHA-256 with a key longer than a block")
    func hmacLongKey() {
        let mac = DigestAuth.hmacSHA256(key: [UInt8](repeating: 0xaa, count: 131),
                                        message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(DigestAuth.hex(mac) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("MD5 and SHA-256 around the block and padding edges (0, 55, 56, 63, 64, 119, 120, 1000 bytes)")
    func digestLengths() {
        let expected: [(Int, String, String)] = [
            (0, "d41d8cd98f00b204e9800998ecf8427e", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (55, "52c0e574e1198de5fe3f8f11440dcb1b", "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
            (56, "46c9907fc908ee68b1e7b8e71286a518", "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
            (63, "a62f6d59e837867693f042f5b8f5a236", "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
            (64, "7160b8fb5e9e4023d549c3971fbaeead", "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
            (119, "e84905d4214f4d1ca56c2cdcc152b143", "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
            (120, "e3eb5a6c8669ea01a8c185b8abc8a5dc", "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"),
            (1000, "10046f077f2082ac19676b8079f1cb1a", "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"),
        ]
        for (count, md5, sha256) in expected {
            let message = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
            #expect(DigestAuth.hex(MD5.digest(message)) == md5, "MD5 of \(count) bytes")
            #expect(DigestAuth.hex(SHA256.digest(message)) == sha256, "SHA-256 of \(count) bytes")
        }
    }

    @Test("A nonce is expiry and random as 8 hex digits each, then the first 16 bytes of their HMAC in hex")
    func nonceFormat() {
        #expect(DigestAuth.makeNonce(secret: "s3cret", expires: 1_000, random: 42)
                == "000003e80000002a085238b87381571857abefdd4225de0e")
        // The key kept for the last secret follows a change of secret.
        #expect(DigestAuth.checkNonce("000003e80000002a085238b87381571857abefdd4225de0e", secret: "other", now: 0) == .invalid)
        #expect(DigestAuth.checkNonce("000003e80000002a085238b87381571857abefdd4225de0e", secret: "s3cret", now: 0) == .valid)
        #expect(DigestAuth.checkNonce("000003E80000002a085238b87381571857abefdd4225de0e", secret: "s3cret", now: 0) == .invalid)
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
