import CCurl

/// The HTTP version the driver asks libcurl for (`modparam("tandem", "http_version", ...)`; rest_client has
/// no such parameter). With HTTP/2 the worker's multi handle multiplexes transfers to one host as streams of
/// one connection (`CURLPIPE_MULTIPLEX`), so a server 20 ms away carries many requests per connection.
public enum HTTPVersion: String, Sendable, Equatable, CaseIterable {
    /// HTTP/1.1 only: one transfer per connection at a time, connections reused (keep-alive).
    case http1_1 = "1.1"
    /// HTTP/2 when a TLS server offers it in ALPN, HTTP/1.1 otherwise and in clear text (libcurl's default).
    case http2TLS = "2tls"
    /// HTTP/2 from the first byte in clear text (h2c with prior knowledge: the server must speak it, as
    /// nginx's `listen ... http2` without TLS does); over TLS, HTTP/2 offered in ALPN. Needs libcurl 8.0 or
    /// later to reuse connections (``CurlGlobal/h2cReuseWorks``).
    case http2PriorKnowledge = "h2c"

    /// The `CURLOPT_HTTP_VERSION` value.
    var curlValue: Int {
        switch self {
        case .http1_1: return Int(CURL_HTTP_VERSION_1_1)
        case .http2TLS: return Int(CURL_HTTP_VERSION_2TLS)
        case .http2PriorKnowledge: return Int(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
        }
    }

    /// Whether transfers to `url` may share a connection as HTTP/2 streams (they then wait for a connection
    /// being set up rather than open one each: `CURLOPT_PIPEWAIT`): with h2c always, with 2tls only over
    /// `https://`. Over `http://` 2tls speaks HTTP/1.1, yet libcurl, told to wait, holds a transfer back until
    /// a connection being set up to the host has answered its first request (a whole round trip) to learn
    /// that it cannot multiplex.
    func mayMultiplex(url: String) -> Bool {
        switch self {
        case .http1_1: return false
        case .http2PriorKnowledge: return true
        case .http2TLS: return Self.isHTTPS(url)
        }
    }

    /// Whether `url` starts with `https://`, in any case, compared as bytes (no string made per transfer).
    static func isHTTPS(_ url: String) -> Bool {
        let scheme = "https://".utf8
        var bytes = url.utf8.makeIterator()
        for expected in scheme {
            guard let byte = bytes.next() else { return false }
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard lower == expected else { return false }
        }
        return true
    }
}
