import TandemAsync
import TandemScript

/// How one async-capable script function runs in Tandem: how a call becomes an engine operation on a
/// worker, and how its result reaches the script (`$rc`, output variables). Its signature (argument
/// kinds, modules) is the script language's (`FunctionSpec`, checked by `tandem check`); its output
/// variables come resolved by the compiler (`HostCallArguments.outputs`).
struct FunctionBinding: Sendable {
    /// Builds the operation for a call on a worker.
    typealias MakeOperation = @Sendable (HostCallArguments, WorkerServices) -> any AsyncOperation
    /// Writes the outputs of a finished call (`$rc` is already set from the result).
    typealias Deliver = @Sendable (AsyncResult, HostCallArguments, WorkerServices, inout ExecutionContext) -> Void
    /// A function that reads worker state and returns at once, without an operation (`ldap_result`).
    typealias Immediate = @Sendable (HostCallArguments, WorkerServices, inout ExecutionContext) -> Int

    let name: String
    let makeOperation: MakeOperation?
    let deliver: Deliver
    let immediate: Immediate?
    /// Whether its completion reads the call's argument values (`deliver` or the backend observation);
    /// when not, a suspended request does not keep them while the operation runs (issue 19).
    let completionReadsArguments: Bool

    /// A function run by the async engine.
    init(_ name: String, operation: @escaping MakeOperation,
         deliver: @escaping Deliver = { _, _, _, _ in }, completionReadsArguments: Bool = true) {
        self.name = name
        self.makeOperation = operation
        self.deliver = deliver
        self.immediate = nil
        self.completionReadsArguments = completionReadsArguments
    }

    /// A function that answers at once from worker state (never under async()).
    init(_ name: String, immediate: @escaping Immediate) {
        self.name = name
        self.makeOperation = nil
        self.deliver = { _, _, _, _ in }
        self.immediate = immediate
        self.completionReadsArguments = true
    }
}

/// The script functions of one driver (one file per driver under `Bindings/`).
protocol DriverBinding: SendableMetatype {
    /// Driver names it runs operations under: the keys of `async_mode`, `offload_limit` and the counters.
    static var drivers: [String] { get }
    /// Its functions.
    static var functions: [FunctionBinding] { get }
}

/// Every async-capable function Tandem runs, by name: the one table the router and the synchronous
/// calls go through.
enum AsyncBindings {
    /// The drivers' bindings. A new driver adds its binding type here.
    static let drivers: [any DriverBinding.Type] = [
        SleepBinding.self, ExecBinding.self, DatabaseBinding.self, HTTPBinding.self, LDAPBinding.self,
        MongoCacheBinding.self, DNSBinding.self, AuthDBBinding.self, UsrlocBinding.self,
    ]

    /// Bindings by function name.
    static let functions: [String: FunctionBinding] = {
        var table: [String: FunctionBinding] = [:]
        for driver in drivers {
            for function in driver.functions { table[function.name] = function }
        }
        return table
    }()

    /// Driver names `tandem.offload_limit` and `tandem.async_mode` accept.
    static let knownDrivers: [String] = drivers.flatMap { $0.drivers }

    /// The operation for a call, or one that fails at once (rc -1) when Tandem has no driver for it.
    static func operation(_ name: String, _ call: HostCallArguments, services: WorkerServices) -> any AsyncOperation {
        guard let make = functions[name]?.makeOperation else { return UnavailableOperation(driver: name) }
        return make(call, services)
    }

    /// The request a suspended transaction keeps while its operation runs: without the argument values
    /// when the function's completion does not read them (`sleep()`: the operation already has its time).
    static func keptWhileRunning(_ request: AsyncRequest) -> KeptAsyncRequest {
        let dropsArguments = functions[request.name]?.completionReadsArguments == false && !request.args.isEmpty
        return KeptAsyncRequest(request, keepingArguments: !dropsArguments)
    }

    /// Hands a finished call to the script: `$rc`, then the function's outputs.
    static func complete(_ name: String, _ call: HostCallArguments, result: AsyncResult, services: WorkerServices?,
                         into execution: inout ExecutionContext) {
        execution.rc = result.rc
        guard let services, let binding = functions[name] else { return }
        BackendObservation.observe(name, args: call.values, result: result, services: services)
        binding.deliver(result, call, services, &execution)
    }

    /// A host-run function called outside `async()`/`launch()`: it runs on this thread and blocks it, as
    /// in OpenSIPS, bounded by `async_timeout`. Without the worker's services it fails (rc -1).
    static func invokeSynchronously(_ name: String, _ call: HostCallArguments, services: WorkerServices?,
                                    into execution: inout ExecutionContext) -> Int {
        guard let services, let binding = functions[name] else { return AsyncResult.rcError }
        if let immediate = binding.immediate { return immediate(call, services, &execution) }
        let result = services.asyncWorker.runSynchronously(operation(name, call, services: services))
        complete(name, call, result: result, services: services, into: &execution)
        return execution.rc
    }

    /// The values of a query's pseudo-variables, which the compiler passes after the `declared`
    /// arguments (NULL stays nil).
    static func boundValues(_ values: [ScriptValue], after declared: Int) -> [String?] {
        values.count > declared ? values[declared...].map { $0.isNull ? nil : $0.stringValue } : []
    }

    /// Argument `index` as text, nil when absent or NULL.
    static func text(_ values: [ScriptValue], _ index: Int) -> String? {
        index < values.count && !values[index].isNull ? values[index].stringValue : nil
    }

    /// Logs at L_ERR why a driver call failed: its rc (-1 error, -3 timeout, -4 queue full) and the
    /// driver's `error` output (the server's or the pool's message), so a script's failure has a cause.
    /// A call cancelled with its transaction (a CANCEL) is no database failure: L_INFO.
    static func logFailure(_ what: String, _ result: AsyncResult, in execution: inout ExecutionContext) {
        execution.log(result.isCancelled ? .info : .error,
                      "\(what) failed (rc \(result.rc)): \(result.output("error")?.stringValue ?? failureText(result))")
    }

    /// A failure's cause when the driver gave no message.
    private static func failureText(_ result: AsyncResult) -> String {
        switch result.status {
        case .timedOut: "timed out"
        case .rejected: "queue full"
        case .cancelled: "cancelled"
        default: "no message"
        }
    }

    /// Assigns every value of a `.list` output to each variable (an `$avp` stacks them, row after row).
    static func assignList(_ value: AsyncValue?, to variables: [OutputVariable], in execution: inout ExecutionContext) {
        guard case .list(let entries)? = value else { return }
        for variable in variables {
            for entry in entries { variable.assign(entry.map { .string($0) } ?? .null, in: &execution) }
        }
    }
}

/// An operation for a function whose driver is not in Tandem yet: it supports no path, so the engine
/// completes it at once with `$rc = -1`.
final class UnavailableOperation: AsyncOperation {
    let driver: String
    let supportedPaths: AsyncPaths = []
    init(driver: String) { self.driver = driver }
}
