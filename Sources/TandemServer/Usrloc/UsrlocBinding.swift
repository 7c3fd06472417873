import TandemAsync
import TandemProxy
import TandemScript

/// The registrar's `save`, `lookup`, `is_registered`/`registered` as async-capable functions, in the
/// shape of ``AuthDBBinding``: an operation (the database work of the call's ``UsrlocPlan``, or none)
/// and a deliver step that finishes the call on the worker with the in-memory registrar. In
/// write-through and sql-only `save` replies only from the deliver step, after the row is written;
/// `lookup` in sql-only (and on a memory miss in write-through) reads the AOR's rows first. Under
/// `async()` the transaction suspends meanwhile; called plainly the call runs as every host-run function
/// does (see `AsyncBindings.invokeSynchronously`). In `single-instance-no-db` (or without a plan) the
/// operation completes at once and only memory is used.
enum UsrlocBinding: DriverBinding {
    /// The id of usrloc's `db_url` in ``DatabaseConfiguration``.
    static let databaseID = "usrloc"
    static let drivers = ["usrloc"]
    static let functions = [
        FunctionBinding("save", operation: operation, deliver: save),
        FunctionBinding("lookup", operation: operation, deliver: lookup),
        FunctionBinding("is_registered", operation: operation, deliver: registered),
        FunctionBinding("registered", operation: operation, deliver: registered),
    ]

    private static func operation(_ call: HostCallArguments, _ worker: WorkerServices) -> any AsyncOperation {
        guard let plan = UsrlocPlan(call.values) else { return CompletedOperation(driver: "usrloc", rc: 1) }
        guard let database = worker.settings.databases.database(id: databaseID), database.id == databaseID else {
            return UnavailableOperation(driver: "usrloc")
        }
        return database.backend.queryOperation(id: database.id, query: plan.sql, parameters: plan.parameters,
                                               worker: worker)
    }

    /// Argument `index` as text ("" when absent).
    private static func text(_ call: HostCallArguments, _ index: Int) -> String {
        AsyncBindings.text(call.values, index) ?? ""
    }

    /// A statement's rc that means it ran (rows, or none).
    static func succeeded(_ rc: Int) -> Bool { rc > 0 || rc == AsyncResult.rcNotFound }

    private static func save(_ result: AsyncResult, _ call: HostCallArguments, _ services: WorkerServices,
                             _ execution: inout ExecutionContext) {
        let proxy = execution.proxy
        let flags = text(call, 1)
        let aor = AsyncBindings.text(call.values, 2)
        let plan = UsrlocPlan.head(call.values)
        if plan != nil, !succeeded(result.rc) {
            // Not written: not acknowledged either (the UA retries; memory is left as it was).
            AsyncBindings.logFailure("usrloc: the location write", result, in: &execution)
            if !ProxyCore.SaveFlags(flags).noReply {
                _ = proxy.sendReply(code: 500, reason: "Server Internal Error", headers: [])
            }
            execution.rc = -1
            return
        }
        if let plan, plan.kind == .writeRead, let adapter = proxy as? RequestProxyAdapter {
            // The table's rows after the write; the merge below then changes nothing and the 200 lists them.
            let core = adapter.context.core
            let clocks = UsrlocSQL.Clocks(location: core.locationSeconds(adapter.context.worker))
            core.location.replace(plan.aor, with: UsrlocSQL.contacts(result, clocks: clocks))
        }
        execution.rc = proxy.registrarSave(domain: text(call, 0), flags: flags, aor: aor)
    }

    private static func lookup(_ result: AsyncResult, _ call: HostCallArguments, _ services: WorkerServices,
                               _ execution: inout ExecutionContext) {
        if let failed = refresh(result, call, &execution) {
            execution.rc = failed
            return
        }
        execution.rc = execution.proxy.registrarLookup(domain: text(call, 0), flags: text(call, 1),
                                                       aor: AsyncBindings.text(call.values, 2))
    }

    private static func registered(_ result: AsyncResult, _ call: HostCallArguments, _ services: WorkerServices,
                                   _ execution: inout ExecutionContext) {
        if refresh(result, call, &execution) != nil {
            execution.rc = -1
            return
        }
        execution.rc = execution.proxy.registrarIsRegistered(domain: text(call, 0),
                                                             aor: AsyncBindings.text(call.values, 1))
    }

    /// Puts the rows a read plan fetched into memory; -3 (internal error) when sql-only could not read.
    private static func refresh(_ result: AsyncResult, _ call: HostCallArguments,
                                _ execution: inout ExecutionContext) -> Int? {
        guard let plan = UsrlocPlan(call.values), plan.kind == .read,
              let adapter = execution.proxy as? RequestProxyAdapter else { return nil }
        let core = adapter.context.core
        guard succeeded(result.rc) else {
            AsyncBindings.logFailure("usrloc: the location read", result, in: &execution)
            // Write-through falls back to its memory; sql-only has nothing else to read.
            return core.settings.registrar.mode == .sqlOnly ? -3 : nil
        }
        let clocks = UsrlocSQL.Clocks(location: core.locationSeconds(adapter.context.worker))
        let contacts = UsrlocSQL.contacts(result, clocks: clocks)
        if !contacts.isEmpty || core.settings.registrar.mode == .sqlOnly {
            core.location.replace(plan.aor, with: contacts)
        }
        return nil
    }

    /// The plan of a registrar call on `adapter`'s request (see ``UsrlocPlan``), `.null` for none.
    static func plan(function: String, domain: String, flags: String, aor: String?,
                     adapter: RequestProxyAdapter) -> ScriptValue {
        let context = adapter.context
        let core = context.core
        let registrar = core.settings.registrar
        guard registrar.mode.usesDatabase, registrar.mode != .writeBack else { return .null }
        let table = UsrlocSQL.table(domain)
        let clocks = UsrlocSQL.Clocks(location: core.locationSeconds(context.worker))
        switch function {
        case "save":
            guard let write = core.plannedWrite(context, flags: ProxyCore.SaveFlags(flags), aor: aor) else { return .null }
            // sql-only: the statement also returns the AOR's rows, so that the 200 lists every contact of
            // the table (another instance's included) and the merge starts from them.
            let sqlOnly = registrar.mode == .sqlOnly
            let (sql, parameters) = UsrlocSQL.write(write, table: table, useDomain: registrar.useDomain, clocks: clocks,
                                                    returning: sqlOnly,
                                                    maxContacts: ProxyCore.SaveFlags(flags).maxContacts ?? registrar.maxContacts,
                                                    socket: { adapter.socketText($0) })
            return UsrlocPlan(kind: sqlOnly ? .writeRead : .write, aor: write.aor, sql: sql, parameters: parameters).value
        default:
            guard let key = core.lookupAOR(context, aor: aor, registered: function != "lookup") else { return .null }
            if registrar.mode == .writeThrough && core.hasContacts(key, worker: context.worker) { return .null }
            let (sql, parameters) = UsrlocSQL.select(aor: key, table: table, useDomain: registrar.useDomain, clocks: clocks)
            return UsrlocPlan(kind: .read, aor: key, sql: sql, parameters: parameters).value
        }
    }
}

/// An operation that completes at once with `rc`, on either path (no database work to do).
final class CompletedOperation: AsyncOperation {
    let driver: String
    let rc: Int
    let supportedPaths: AsyncPaths = .all

    init(driver: String, rc: Int) {
        self.driver = driver
        self.rc = rc
    }

    func start(_ context: NativeContext) { context.complete(AsyncResult(rc: rc)) }

    func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let rc = rc
        return { AsyncResult(rc: rc) }
    }
}
