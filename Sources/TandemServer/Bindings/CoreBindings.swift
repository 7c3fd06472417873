import TandemAsync
import TandemScript

/// `sleep(seconds)` / `usleep(microseconds)` (cfgutils): a reactor timer natively. rc 1.
enum SleepBinding: DriverBinding {
    static let drivers = ["sleep", "usleep"]
    static let functions = [
        FunctionBinding("sleep", operation: { call, _ in
            SleepOperation(seconds: UInt64(max(0, call.values.first?.intValue ?? 0)))
        }, completionReadsArguments: false),
        FunctionBinding("usleep", operation: { call, _ in
            SleepOperation(microseconds: UInt64(max(0, call.values.first?.intValue ?? 0)))
        }, completionReadsArguments: false),
    ]
}

/// `exec(command[, stdin[, $stdout[, $stderr[, $env]]]])` (exec module): a child process with its pipes
/// on the reactor. rc 1 on exit status 0, else -1; stdout and stderr go to their variables.
enum ExecBinding: DriverBinding {
    static let drivers = ["exec"]
    static let functions = [
        FunctionBinding("exec", operation: { call, _ in
            let stdin = AsyncBindings.text(call.values, 1)
            return ExecOperation(command: AsyncBindings.text(call.values, 0) ?? "",
                                 stdin: stdin?.isEmpty == true ? nil : stdin)
        }, deliver: { result, call, _, execution in
            for (position, output) in [(2, "stdout"), (3, "stderr")] {
                guard let text = result.output(output)?.stringValue else { continue }
                for variable in call.outputs(of: position) { variable.assign(.string(text), in: &execution) }
            }
        }),
    ]
}
