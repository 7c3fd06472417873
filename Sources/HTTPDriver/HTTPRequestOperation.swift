import CCurl
import TandemAsync

/// `rest_get` / `rest_post` / `rest_put` as an async operation (driver `"http"`).
///
/// - native: the request becomes an easy handle on the worker's ``CurlMulti`` (shared per worker, so
///   connections are reused); no thread, no blocking call. ``cancel()`` (async timeout, CANCEL of the
///   transaction) removes the handle from the multi; an unfinished connection is closed by libcurl.
/// - blocking (`offload`/`sync`): `curl_easy_perform` with the total timeout capped at the job's
///   timeout (each call opens its own connection).
///
/// Result (rest_client's): rc 1 when an HTTP exchange completed, whatever its status, with outputs
/// `"body"` (string), `"ctype"` (string, empty if the server sent none), `"code"` (int status);
/// rc -1 refused/error, -2 connect timeout, -3 transfer timeout (also the async layer's timeout).
public final class HTTPRequestOperation: AsyncOperation {
    public let driver = "http"
    public let supportedPaths: AsyncPaths = .all
    /// The request.
    public let request: HTTPRequest
    private let explicitMulti: CurlMulti?
    private var multi: CurlMulti?
    private var transfer: HTTPTransfer?

    /// Creates the operation. `multi`: the multi to use; `nil` uses the worker's
    /// ``CurlMulti/shared(for:)`` at start.
    public init(request: HTTPRequest, multi: CurlMulti? = nil) {
        self.request = request
        self.explicitMulti = multi
    }

    /// New connections the finished transfer opened (`CURLINFO_NUM_CONNECTS`; 0: reused one).
    public private(set) var newConnections: Int?

    public func start(_ context: NativeContext) {
        guard let multi = explicitMulti ?? CurlMulti.shared(for: context.reactor),
              let transfer = HTTPTransfer(request: request, spares: multi) else {
            context.complete(AsyncResult(rc: HTTPResultCode.error))
            return
        }
        self.multi = multi
        self.transfer = transfer
        transfer.onDone = { [unowned self, unowned transfer] code in
            self.newConnections = transfer.newConnections
            let result = transfer.result(for: code)
            self.transfer = nil
            self.multi = nil
            context.complete(result)
        }
        switch multi.add(transfer) {
        case .accepted:
            break
        case .queueFull:
            self.transfer = nil
            self.multi = nil
            context.complete(.rejected(reason: "http pending queue is full"))
        case .failed:
            self.transfer = nil
            self.multi = nil
            context.complete(AsyncResult(rc: HTTPResultCode.error))
        }
    }

    public func cancel() {
        guard let transfer else { return }
        transfer.onDone = nil
        multi?.remove(transfer)
        self.transfer = nil
        self.multi = nil
    }

    public func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let request = request
        return { HTTPRequestOperation.perform(request, timeoutCapMs: timeoutMs) }
    }

    /// Runs `request` with `curl_easy_perform` on the calling thread (blocks).
    public static func perform(_ request: HTTPRequest, timeoutCapMs: UInt64? = nil) -> AsyncResult {
        guard let transfer = HTTPTransfer(request: request, timeoutCapMs: timeoutCapMs) else {
            return AsyncResult(rc: HTTPResultCode.error)
        }
        return transfer.result(for: curl_easy_perform(transfer.easy))
    }
}
