/// The HTTP driver's module parameters (rest_client's modparams). The server hands them to each
/// worker: requests copy the per-request part, the worker's ``CurlMulti`` takes the connection part.
public struct HTTPDriverSettings: Sendable, Equatable {
    /// `connection_timeout` in ms (rest_client: seconds, default 20).
    public var connectTimeoutMs: UInt64 = 20_000
    /// `curl_timeout` in ms (rest_client: seconds, default 20).
    public var totalTimeoutMs: UInt64 = 20_000
    /// `ssl_verifypeer` (default on).
    public var verifyPeer = true
    /// `ssl_verifyhost` (default on).
    public var verifyHost = true
    /// `max_transfer_size` in bytes (rest_client: KB, default 10240 KB). 0: unlimited.
    public var maxResponseBytes = 10_240 * 1024
    /// `max_async_transfers`: transfers one worker runs at once; later ones wait in a FIFO (default 100).
    public var maxAsyncTransfers = 100
    /// Transfers that may wait for one of the ``maxAsyncTransfers`` slots (`modparam("tandem",
    /// "http_queue", N)`, default 256); a request beyond that gets rc -4 at once.
    public var maxPendingTransfers = 256
    /// Connections one worker opens to one host at once (`modparam("tandem", "http_max_host_connections",
    /// N)`, `CURLMOPT_MAX_HOST_CONNECTIONS`, default 100, as many as ``maxAsyncTransfers``; 0: unlimited).
    /// Transfers beyond it wait inside libcurl for a free connection (still bounded by their call's
    /// timeout), so a frozen server gets at most this many connections per worker instead of one per
    /// request. That wait is not counted as queued: below ``maxAsyncTransfers`` it is a queue nobody sees.
    public var maxHostConnections = 100
    /// `CURLMOPT_MAXCONNECTS`: connections a worker keeps open for reuse (default 64; at least
    /// ``maxAsyncTransfers``, see ``CurlMulti``). 0: libcurl's default, 4 × the transfers in progress, which
    /// closes connections as a burst drains.
    public var maxCachedConnections = 64
    /// `modparam("tandem", "http_version", "1.1"|"2tls"|"h2c")` (default "2tls", libcurl's default): see
    /// ``HTTPVersion``.
    public var httpVersion = HTTPVersion.http2TLS
    /// `modparam("tandem", "http_max_streams", N)`: HTTP/2 streams one connection carries at once
    /// (`CURLMOPT_MAX_CONCURRENT_STREAMS`, default 100, also capped by the server's own limit); more
    /// transfers to the host open another connection, up to ``maxHostConnections``.
    public var maxConcurrentStreams = 100

    /// The defaults above.
    public init() {}
}
