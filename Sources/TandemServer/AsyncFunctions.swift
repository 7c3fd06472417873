import HTTPDriver
import LDAPDriver
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
    /// Declared arguments of ldap_search; the URL's values follow it.
    static let ldapSearchArguments = 1

    /// The values of a query's pseudo-variables, which the script passes after the `declared` arguments
    /// (NULL stays nil).
    static func boundValues(_ args: [ScriptValue], after declared: Int) -> [String?] {
        args.count > declared ? args[declared...].map { $0.isNull ? nil : $0.stringValue } : []
    }

    /// `$rc` as the script sees it. ldap_search keeps OpenSIPS ldap's table (entries, -1 none,
    /// -2 error, -3 timeout), so an engine-side failure (no session, cancelled) is -2 there.
    static func scriptRC(of name: String, _ result: AsyncResult) -> Int {
        if name == "ldap_search", result.rc == AsyncResult.rcError, result.output("entries") == nil {
            return -2
        }
        return result.rc
    }

    /// `ldap_result("attr/$avp(dst)")` or `ldap_result("attr", $avp(dst))`: copies every value of
    /// `attr` from this worker's last ldap_search into the variable. `$rc`: values copied, -1 none.
    static func ldapResult(args: [ScriptValue], services: WorkerServices?, script: Script,
                           into execution: inout ExecutionContext) -> Int {
        let spec = args.first?.stringValue ?? ""
        var attribute = spec
        var target = args.count > 1 ? args[1].stringValue : ""
        if let slash = spec.firstIndex(of: "/") {
            attribute = String(spec[..<slash])
            target = String(spec[spec.index(after: slash)...]).trimmingSpaces()
        }
        guard let result = services?.lastLDAPResult,
              case .list(let values)? = result.output(LDAPSearchOperation.outputName(attribute: attribute)),
              !values.isEmpty else { return -1 }
        for value in values {
            VariableWriter.assign(target, value.map { .string($0) } ?? .null, script: script, execution: &execution)
        }
        return values.count
    }

    /// The operation for `name(args)`, or one that fails at once when Tandem has no driver for it yet.
    static func operation(name: String, args: [ScriptValue], services: WorkerServices?) -> any AsyncOperation {
        switch name {
        case "avp_db_query", "sql_query":
            let id = args.count > 2 && !args[2].isNull ? args[2].stringValue : nil
            let parameters = boundValues(args, after: databaseArguments)
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
            let json = QueryTemplate.fill(args.count > 1 ? args[1].stringValue : "",
                                          values: boundValues(args, after: databaseArguments),
                                          escape: MongoJSON.escape)
            return MongoRawQueryOperation(pool: pool, json: json)
        case "ldap_search":
            // The URL follows OpenSIPS: ldap://SESSION/base?attrs?scope?filter; values go into it escaped.
            let text = QueryTemplate.fill(args.first?.stringValue ?? "", values: boundValues(args, after: ldapSearchArguments),
                                          escape: LDAPFilter.escape)
            guard let url = try? LDAPURL.parse(text), let pool = services?.ldapPool(session: url.session) else {
                return UnavailableOperation(driver: "ldap")
            }
            return LDAPSearchOperation(pool: pool, search: url)
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

    /// Hands a finished operation to the script: `$rc`, the output variables, and for ldap_search the
    /// result that ldap_result reads.
    static func complete(_ name: String, args: [ScriptValue], result: AsyncResult, script: Script,
                         services: WorkerServices?, into execution: inout ExecutionContext) {
        execution.rc = scriptRC(of: name, result)
        if name == "ldap_search" { services?.lastLDAPResult = result }
        BackendObservation.observe(name, args: args, result: result, services: services)
        storeOutputs(of: name, args: args, result: result, script: script, into: &execution)
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
