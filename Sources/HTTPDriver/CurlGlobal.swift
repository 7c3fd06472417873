import CCurl

/// Process-wide libcurl facts: `curl_global_init` (done once, before the first handle) and what the
/// linked libcurl supports.
public enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    /// Runs `curl_global_init` once; `false` if it failed.
    @discardableResult
    public static func ensureInitialized() -> Bool { initialized }

    /// The libcurl version string, e.g. `"7.88.1"`.
    public static var version: String {
        ensureInitialized()
        guard let info = tandem_curl_version_info(), let v = info.pointee.version else { return "?" }
        return String(cString: v)
    }

    /// The libcurl version as `0xXXYYZZ` (major, minor, patch), 0 if unknown.
    public static var versionNumber: Int {
        ensureInitialized()
        guard let info = tandem_curl_version_info() else { return 0 }
        return Int(info.pointee.version_num)
    }

    /// Whether h2c with prior knowledge (``HTTPVersion/http2PriorKnowledge``) survives connection reuse:
    /// libcurl before 8.0.0 (Debian 12 ships 7.88.1) set up a second HTTP/2 layer on a reused h2c
    /// connection and failed the transfer with "Error in the HTTP2 framing layer" (curl issue 10634).
    /// HTTP/2 over TLS (ALPN) is not affected.
    public static var h2cReuseWorks: Bool { versionNumber >= 0x08_00_00 }

    /// Whether libcurl resolves host names without blocking the caller (`CURL_VERSION_ASYNCHDNS`:
    /// the threaded resolver or c-ares). Without it, a host-name URL would block the worker during
    /// `getaddrinfo`; IP-literal URLs never resolve.
    public static var hasAsynchronousDNS: Bool {
        ensureInitialized()
        guard let info = tandem_curl_version_info() else { return false }
        return info.pointee.features & CURL_VERSION_ASYNCHDNS != 0
    }
}
