@testable import HTTPDriver
import Testing

/// Which transfers ask libcurl to wait for a connection being set up (`CURLOPT_PIPEWAIT`).
@Suite struct HTTPVersionTests {
    static let urls = [
        "https://a.example/x", "HTTPS://a.example", "HtTpS://", "http://a.example/x", "https:/a", "https:", "",
        "h", "httpsx//a", "https://", "ftp://a", " https://a", "https\u{1A}//a", "hTTps://é",
    ]

    @Test func multiplexOnlyWhereHTTP2CanBeSpoken() {
        for url in Self.urls {
            // The reference: the scheme's first 8 characters, lowercased.
            let https = url.prefix(8).lowercased() == "https://"
            #expect(HTTPVersion.http2TLS.mayMultiplex(url: url) == https, "\(url)")
            #expect(HTTPVersion.http2PriorKnowledge.mayMultiplex(url: url), "\(url)")
            #expect(!HTTPVersion.http1_1.mayMultiplex(url: url), "\(url)")
        }
    }
}
