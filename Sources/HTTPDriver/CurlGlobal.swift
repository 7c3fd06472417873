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

    /// Whether libcurl resolves host names without blocking the caller (`CURL_VERSION_ASYNCHDNS`:
    /// the threaded resolver or c-ares). Without it, a host-name URL would block the worker during
    /// `getaddrinfo`; IP-literal URLs never resolve.
    public static var hasAsynchronousDNS: Bool {
        ensureInitialized()
        guard let info = tandem_curl_version_info() else { return false }
        return info.pointee.features & CURL_VERSION_ASYNCHDNS != 0
    }
}
