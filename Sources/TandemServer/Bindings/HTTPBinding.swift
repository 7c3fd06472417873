import HTTPDriver
import TandemAsync
import TandemScript

/// `rest_get(url, $body[, $ctype[, $code]])`, `rest_post`/`rest_put(url, body, ctype, $body[, $ctype[, $code]])`
/// (rest_client): a transfer on the worker's curl multi. Outputs are written only when present (on
/// failure the variables keep their values, as in rest_client).
enum HTTPBinding: DriverBinding {
    static let drivers = ["http"]
    static let functions = [
        FunctionBinding("rest_get", operation: { call, worker in
            operation(HTTPRequest(method: .get, url: AsyncBindings.text(call.values, 0) ?? "",
                                  settings: worker.settings.http), worker)
        }, deliver: { result, call, _, execution in deliver(result, call, firstOutput: 1, &execution) }),
        FunctionBinding("rest_post", operation: { call, worker in send(.post, call, worker) },
                        deliver: { result, call, _, execution in deliver(result, call, firstOutput: 3, &execution) }),
        FunctionBinding("rest_put", operation: { call, worker in send(.put, call, worker) },
                        deliver: { result, call, _, execution in deliver(result, call, firstOutput: 3, &execution) }),
    ]

    private static func send(_ method: HTTPMethod, _ call: HostCallArguments, _ worker: WorkerServices) -> any AsyncOperation {
        let contentType = AsyncBindings.text(call.values, 2).flatMap { $0.isEmpty ? nil : $0 }
        return operation(HTTPRequest(method: method, url: AsyncBindings.text(call.values, 0) ?? "",
                                     body: AsyncBindings.text(call.values, 1) ?? "", contentType: contentType,
                                     settings: worker.settings.http), worker)
    }

    private static func operation(_ request: HTTPRequest, _ worker: WorkerServices) -> any AsyncOperation {
        HTTPRequestOperation(request: request, multi: worker.state(HTTPWorkerMulti.self).multi)
    }

    private static func deliver(_ result: AsyncResult, _ call: HostCallArguments, firstOutput: Int,
                                _ execution: inout ExecutionContext) {
        for (offset, name) in ["body", "ctype", "code"].enumerated() {
            let value: ScriptValue
            switch result.output(name) {
            case .string(let text)?: value = .string(text)
            case .int(let number)?: value = .int(number)
            case .list?, nil: continue
            }
            for variable in call.outputs(of: firstOutput + offset) { variable.assign(value, in: &execution) }
        }
    }
}

/// One worker's curl multi handle, made with the script's rest_client settings on first use.
final class HTTPWorkerMulti: WorkerDriverState {
    let multi: CurlMulti?

    init(worker: WorkerServices) {
        multi = CurlMulti(reactor: worker.asyncWorker.reactor, settings: worker.settings.http)
    }
}
