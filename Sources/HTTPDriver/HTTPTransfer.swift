import CCurl
import TandemAsync

/// One libcurl easy handle set up for an ``HTTPRequest``, with its response buffer. Used by both
/// paths: added to a ``CurlMulti`` (native) or run with `curl_easy_perform` (blocking).
///
/// Native transfers take their easy handle from the multi's spares and give it back (reset) when they
/// end, so a worker does not allocate and free libcurl's per-handle state and buffers on every request.
///
/// Not thread-safe: used on one thread (the worker's loop, or one offload thread).
final class HTTPTransfer {
    /// The easy handle (`CURL *`); owned, cleaned up in `deinit`.
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// Response body bytes received so far.
    private(set) var responseBody: [UInt8] = []
    private let maxResponseBytes: Int
    /// Whether the body exceeded `maxResponseBytes` (the transfer was aborted).
    private(set) var overflowed = false
    /// Called once by the ``CurlMulti`` when libcurl reports the transfer done.
    var onDone: ((CURLcode) -> Void)?
    /// Whether the easy handle is currently added to a multi (managed by ``CurlMulti``).
    var isAttached = false
    /// The multi whose spare handles `easy` came from and goes back to (nil: cleaned up at the end).
    private weak var spares: CurlMulti?

    /// Creates and configures the easy handle (one of `spares`' when given); `nil` if libcurl refuses
    /// (out of memory, bad option).
    init?(request: HTTPRequest, timeoutCapMs: UInt64? = nil, spares: CurlMulti? = nil) {
        CurlGlobal.ensureInitialized()
        guard let easy = spares?.takeEasyHandle() ?? curl_easy_init() else { return nil }
        self.easy = easy
        self.spares = spares
        self.maxResponseBytes = request.maxResponseBytes
        if !configure(request, timeoutCapMs: timeoutCapMs) { return nil }
    }

    deinit {
        // Reset (or cleaned up) before the header list goes: the handle no longer points at it.
        if let spares, !isAttached { spares.recycleEasyHandle(easy) } else { curl_easy_cleanup(easy) }
        if let headerList { curl_slist_free_all(headerList) }
    }

    private func configure(_ request: HTTPRequest, timeoutCapMs: UInt64?) -> Bool {
        var ok = true
        func set(_ option: CURLoption, _ value: Int) { ok = ok && tandem_easy_setopt_long(easy, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) {
            ok = ok && value.withCString { tandem_easy_setopt_string(easy, option, $0) } == CURLE_OK
        }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)  // no SIGALRM-based timeouts in a threaded process
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(clamping: request.connectTimeoutMs))
        var total = request.totalTimeoutMs
        if let cap = timeoutCapMs, cap > 0, total == 0 || cap < total { total = cap }
        set(CURLOPT_TIMEOUT_MS, Int(clamping: total))
        set(CURLOPT_SSL_VERIFYPEER, request.verifyPeer ? 1 : 0)
        set(CURLOPT_SSL_VERIFYHOST, request.verifyHost ? 2 : 0)
        set(CURLOPT_HTTP_VERSION, request.httpVersion.curlValue)
        if request.httpVersion.mayMultiplex(url: request.url) { set(CURLOPT_PIPEWAIT, 1) }  // join a connection being set up

        switch request.method {
        case .get:
            set(CURLOPT_HTTPGET, 1)
        case .post, .put:
            if request.method == .put { set(CURLOPT_CUSTOMREQUEST, "PUT") }
            ok = ok && tandem_easy_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)) == CURLE_OK
            // COPYPOSTFIELDS copies `POSTFIELDSIZE` bytes (binary-safe); the buffer needs no lifetime.
            ok = ok && request.body.withUnsafeBytes { raw in
                let empty: StaticString = ""
                let base = raw.baseAddress ?? UnsafeRawPointer(empty.utf8Start)
                return tandem_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
            } == CURLE_OK
        }

        var lines = request.headers
        if request.method != .get {
            if let type = request.contentType { lines.append("Content-Type: \(type)") }
            lines.append("Expect:")  // no 100-continue round trip (rest_client's enable_expect_100 = 0)
        }
        // A plain GET (the common case) sends libcurl's headers only: no list to build and free.
        if !lines.isEmpty {
            for line in lines {
                let appended = line.withCString { curl_slist_append(headerList, $0) }
                guard let appended else { return false }
                headerList = appended
            }
            ok = ok && tandem_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList) == CURLE_OK
        }

        let me = Unmanaged.passUnretained(self).toOpaque()
        ok = ok && tandem_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, HTTPTransfer.writeCallback) == CURLE_OK
        ok = ok && tandem_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me) == CURLE_OK
        ok = ok && tandem_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me) == CURLE_OK
        return ok
    }

    private static let writeCallback: curl_write_callback = { data, size, count, user in
        guard let user else { return 0 }
        let transfer = Unmanaged<HTTPTransfer>.fromOpaque(user).takeUnretainedValue()
        let length = size * count
        if transfer.maxResponseBytes > 0, transfer.responseBody.count + length > transfer.maxResponseBytes {
            transfer.overflowed = true
            return 0  // CURLE_WRITE_ERROR
        }
        if let data, length > 0 {
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
        }
        return length
    }

    /// The transfer that owns `easy` (its `CURLOPT_PRIVATE`).
    static func owner(of easy: UnsafeMutableRawPointer) -> HTTPTransfer? {
        var pointer: UnsafeMutableRawPointer?
        guard tandem_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &pointer) == CURLE_OK, let pointer else { return nil }
        return Unmanaged<HTTPTransfer>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// HTTP status of the last response (0 if none).
    var statusCode: Int {
        var code = 0
        _ = tandem_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// The response's `Content-Type` (empty if none).
    var contentType: String {
        var pointer: UnsafeMutablePointer<CChar>?
        guard tandem_easy_getinfo_string(easy, CURLINFO_CONTENT_TYPE, &pointer) == CURLE_OK, let pointer else { return "" }
        return String(cString: pointer)
    }

    /// New connections this transfer opened (`CURLINFO_NUM_CONNECTS`; 0 when it reused one).
    var newConnections: Int {
        var count = 0
        _ = tandem_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &count)
        return count
    }

    /// Whether the transfer got a connection: the connect phase finished (`CURLINFO_CONNECT_TIME_T` > 0) or
    /// the request was about to be sent (`CURLINFO_PRETRANSFER_TIME_T` > 0: a reused keep-alive connection,
    /// whose connect time can read 0).
    var connected: Bool {
        var micros: curl_off_t = 0
        _ = tandem_easy_getinfo_offset(easy, CURLINFO_CONNECT_TIME_T, &micros)
        if micros > 0 { return true }
        _ = tandem_easy_getinfo_offset(easy, CURLINFO_PRETRANSFER_TIME_T, &micros)
        return micros > 0
    }

    /// The script-visible result for libcurl's outcome `code` (rest_client semantics):
    /// rc 1 with outputs `body`, `ctype`, `code` for any completed exchange (4xx/5xx included);
    /// rc -2 for a connect timeout; rc -3 for a transfer timeout; rc -1 for every other failure.
    func result(for code: CURLcode) -> AsyncResult {
        if code == CURLE_OK {
            return AsyncResult(rc: AsyncResult.rcSuccess, outputs: [
                AsyncOutput("body", .string(String(decoding: responseBody, as: UTF8.self))),
                AsyncOutput("ctype", .string(contentType)),
                AsyncOutput("code", .int(statusCode)),
            ])
        }
        if code == CURLE_OPERATION_TIMEDOUT {
            return AsyncResult(rc: connected ? HTTPResultCode.transferTimeout : HTTPResultCode.connectTimeout)
        }
        return AsyncResult(rc: HTTPResultCode.error)
    }
}
