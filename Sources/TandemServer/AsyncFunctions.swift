import HTTPDriver
import MongoDriver
import PostgresDriver
import TandemAsync
import TandemScript

/// Maps the script's async-capable functions to engine operations, and their results back into
/// script variables (`$rc`, output variables).
enum AsyncFunctions {
    /// Drivers Tandem has; `tandem.offload_limit` and `tandem.async_mode` accept these names.
    static let knownDrivers = ["sleep", "usleep", "exec", "pg_connect", "postgres", "http", "ldap",
                               "ldap_connect", "mongodb"]

    /// Declared arguments of the database functions; the query's bound values follow them.
    static let databaseArguments = 3

    /// The operation for `name(args)`, or one that fails at once when Tandem has no driver for it yet.
    static func operation(name: String, args: [ScriptValue], services: WorkerServices?) -> any AsyncOperation {
        switch name {
        case "avp_db_query", "sql_query":
            let id = args.count > 2 && !args[2].isNull ? args[2].stringValue : nil
            let parameters: [String?] = args.count > databaseArguments
                ? args[databaseArguments...].map { $0.isNull ? nil : $0.stringValue } : []
            let query = args.first?.stringValue ?? ""
            guard let database = services?.databases.database(id: id) else { return UnavailableOperation(driver: "postgres") }
            switch database.backend {
            case .postgres:
                guard let pool = services?.postgresPool(id: id) else { return UnavailableOperation(driver: "postgres") }
                return PostgresQueryOperation(pool: pool, sql: query, parameters: parameters)
            case .mongo(let pool):
                // A JSON command: values are JSON-escaped into their string literals.
                return MongoCommandOperation(pool: pool, json: QueryTemplate.fill(query, values: parameters,
                                                                                  escape: MongoJSON.escape))
            }
        case "cache_raw_query":
            // cache_raw_query("mongodb[:group]", json, "$avp(res)"): the query follows the 3 declared args.
            guard let pool = services?.databases.cacheMongo else { return UnavailableOperation(driver: "mongodb") }
            let parameters: [String?] = args.count > databaseArguments
                ? args[databaseArguments...].map { $0.isNull ? nil : $0.stringValue } : []
            let json = QueryTemplate.fill(args.count > 1 ? args[1].stringValue : "", values: parameters,
                                          escape: MongoJSON.escape)
            return MongoRawQueryOperation(pool: pool, json: json)
        case "rest_get":
            return HTTPRequestOperation(request: HTTPRequest(method: .get, url: args.first?.stringValue ?? ""))
        case "rest_post", "rest_put":
            let body = args.count > 1 && !args[1].isNull ? args[1].stringValue : ""
            let contentType = args.count > 2 && !args[2].isNull && !args[2].stringValue.isEmpty
                ? args[2].stringValue : nil
            return HTTPRequestOperation(request: HTTPRequest(method: name == "rest_post" ? .post : .put,
                                                             url: args.first?.stringValue ?? "", body: body,
                                                             contentType: contentType))
        case "sleep":
            return SleepOperation(seconds: UInt64(max(0, args.first?.intValue ?? 0)))
        case "usleep":
            return SleepOperation(microseconds: UInt64(max(0, args.first?.intValue ?? 0)))
        case "exec":
            let command = args.first?.stringValue ?? ""
            let stdin = args.count > 1 && !args[1].isNull ? args[1].stringValue : nil
            return ExecOperation(command: command, stdin: stdin?.isEmpty == true ? nil : stdin)
        default:
            return UnavailableOperation(driver: name)
        }
    }

    /// Writes the function's outputs into the output variables named in its arguments
    /// (`exec(cmd, stdin, $var(out), $var(err))`).
    static func storeOutputs(of name: String, args: [ScriptValue], result: AsyncResult, script: Script,
                             into execution: inout ExecutionContext) {
        if name == "cache_raw_query" {
            guard args.count > 2, case .list(let documents)? = result.output("json") else { return }
            for document in documents {
                VariableWriter.assign(args[2].stringValue.trimmingSpaces(), document.map { .string($0) } ?? .null,
                                      script: script, execution: &execution)
            }
            return
        }
        if name == "avp_db_query" || name == "sql_query" {
            // Column j of every row goes to the j-th variable of "$avp(a);$avp(b)", row after row.
            guard args.count > 1, !args[1].isNull else { return }
            let targets = args[1].stringValue.split(separator: ";").map { String($0).trimmingSpaces() }
            for (column, target) in targets.enumerated() {
                guard case .list(let rows)? = result.output(PostgresQueryOperation.outputName(column: column)) else {
                    continue
                }
                for row in rows {
                    VariableWriter.assign(target, row.map { .string($0) } ?? .null, script: script, execution: &execution)
                }
            }
            return
        }
        if name.hasPrefix("rest_") {
            // rest_get(url, $body, $ctype, $code); rest_post/rest_put(url, body, ctype, $body, $ctype, $code).
            // Written only when present: on failure the variables keep their values, as in rest_client.
            let first = name == "rest_get" ? 1 : 3
            for (offset, output) in ["body", "ctype", "code"].enumerated() where args.count > first + offset {
                guard let value = result.output(output) else { continue }
                let scriptValue: ScriptValue
                switch value {
                case .string(let text): scriptValue = .string(text)
                case .int(let number): scriptValue = .int(number)
                case .list: continue
                }
                VariableWriter.assign(args[first + offset].stringValue, scriptValue, script: script, execution: &execution)
            }
            return
        }
        guard name == "exec" else { return }
        for (position, output) in [(2, "stdout"), (3, "stderr")] where args.count > position {
            guard let value = result.outputs.first(where: { $0.name == output })?.value.stringValue else { continue }
            VariableWriter.assign(args[position].stringValue, .string(value), script: script, execution: &execution)
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

/// Assigns to a variable given by its script text (`$var(x)`, `$avp(x)`), as output parameters are.
enum VariableWriter {
    static func assign(_ text: String, _ value: ScriptValue, script: Script, execution: inout ExecutionContext) {
        guard text.hasPrefix("$"), text.hasSuffix(")"), let open = text.firstIndex(of: "(") else { return }
        let kind = text[text.index(after: text.startIndex)..<open]
        let name = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        switch kind {
        case "var":
            if let slot = script.varNames.firstIndex(of: name), slot < execution.vars.count {
                execution.vars[slot] = value
            }
        case "avp":
            if let slot = script.avpSlot(named: name) { execution.avps.push(slot: slot, value) }
        default:
            break
        }
    }
}
