/// The rc values of the HTTP functions (rest_client's). Note -2 here means
/// a connect timeout, not the engine-wide "empty / not found".
public enum HTTPResultCode {
    /// The exchange completed (any HTTP status; see output `"code"`).
    public static let success = 1
    /// Refused, resolve failure, TLS failure, oversize body, any other error.
    public static let error = -1
    /// The connect phase timed out (`connection_timeout`).
    public static let connectTimeout = -2
    /// The transfer timed out (`curl_timeout`) or the async layer gave up.
    public static let transferTimeout = -3
}
