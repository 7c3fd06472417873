/// One HTTP request as `rest_get`/`rest_post`/`rest_put` describe it, plus the per-request settings
/// taken from the module parameters. A value (copied into the blocking form's closure).
public struct HTTPRequest: Sendable, Equatable {
    /// The method.
    public var method: HTTPMethod
    /// The URL (`http://` or `https://`). IP literals never touch a resolver.
    public var url: String
    /// The request body (POST/PUT; ignored for GET).
    public var body: [UInt8]
    /// The `Content-Type` header sent with the body (`nil`: none).
    public var contentType: String?
    /// Extra request headers, `"Name: value"` each.
    public var headers: [String]
    /// Connect phase limit in ms (`connection_timeout`, seconds in rest_client). 0: libcurl's default.
    public var connectTimeoutMs: UInt64
    /// Whole-transfer limit in ms (`curl_timeout`, seconds in rest_client). 0: none.
    public var totalTimeoutMs: UInt64
    /// Verify the server certificate (`ssl_verifypeer`).
    public var verifyPeer: Bool
    /// Verify that the certificate matches the host name (`ssl_verifyhost`).
    public var verifyHost: Bool
    /// Largest response body accepted in bytes (`max_transfer_size`, KB in rest_client); larger: rc -1.
    /// 0: unlimited.
    public var maxResponseBytes: Int
    /// The HTTP version asked for (`http_version`).
    public var httpVersion: HTTPVersion

    /// Creates a request; the settings default to rest_client's defaults.
    public init(method: HTTPMethod, url: String, body: [UInt8] = [], contentType: String? = nil,
                headers: [String] = [], settings: HTTPDriverSettings = HTTPDriverSettings()) {
        self.method = method
        self.url = url
        self.body = body
        self.contentType = contentType
        self.headers = headers
        self.connectTimeoutMs = settings.connectTimeoutMs
        self.totalTimeoutMs = settings.totalTimeoutMs
        self.verifyPeer = settings.verifyPeer
        self.verifyHost = settings.verifyHost
        self.maxResponseBytes = settings.maxResponseBytes
        self.httpVersion = settings.httpVersion
    }

    /// Creates a request with a string body.
    public init(method: HTTPMethod, url: String, body: String, contentType: String? = nil,
                headers: [String] = [], settings: HTTPDriverSettings = HTTPDriverSettings()) {
        self.init(method: method, url: url, body: Array(body.utf8), contentType: contentType,
                  headers: headers, settings: settings)
    }
}
