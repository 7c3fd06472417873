import CLibPQ
import TandemAsync

/// Gathers the `PGresult`s of one statement and turns them into the script-visible ``AsyncResult``:
/// rc 1 with ≥ 1 row, -2 with none (also for commands without a result set, as OpenSIPS does),
/// -1 on error, -3 when the server cancelled the statement for its `statement_timeout`.
/// Outputs: `col0`…`colN-1` (`.list`, one entry per row, NULL → `nil`), `rows` (`.int`),
/// `affected` (`.int`, for INSERT/UPDATE/DELETE), `error` and `sqlstate` (`.string`) on error.
struct PostgresResultCollector {
    private var columns: [[String?]] = []
    private var rowCount = 0
    private var affected: Int?
    private var error: String?
    private var sqlState: String?
    private var sawResult = false

    /// Takes one result (it is cleared by the caller).
    mutating func add(_ result: OpaquePointer) {
        let status = PQresultStatus(result)
        if status == PGRES_TUPLES_OK || status == PGRES_SINGLE_TUPLE {
            if sawResult && rowCount > 0 { return }  // keep the first result set with rows
            sawResult = true
            let rows = Int(PQntuples(result))
            let fields = Int(PQnfields(result))
            var columns: [[String?]] = []
            columns.reserveCapacity(fields)
            for column in 0..<fields {
                var values: [String?] = []
                values.reserveCapacity(rows)
                for row in 0..<rows {
                    if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                        values.append(nil)
                    } else {
                        values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                    }
                }
                columns.append(values)
            }
            self.columns = columns
            rowCount = rows
        } else if status == PGRES_COMMAND_OK {
            sawResult = true
            if let text = PQcmdTuples(result), text.pointee != 0 { affected = Int(String(cString: text)) }
        } else if status == PGRES_EMPTY_QUERY {
            sawResult = true
        } else {
            // FATAL_ERROR, NONFATAL_ERROR, BAD_RESPONSE, COPY_* (COPY is not supported).
            if error == nil {
                let message = trimmedMessage(PQresultErrorMessage(result))
                error = message.isEmpty ? String(cString: PQresStatus(status)) : message
                if let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { sqlState = String(cString: state) }
            }
        }
    }

    /// Records a connection-level failure (no result will come).
    mutating func fail(_ message: String) {
        if error == nil { error = message.isEmpty ? "connection to the database failed" : message }
    }

    /// Whether an error was recorded.
    var failed: Bool { error != nil }

    /// The SQLSTATE of the recorded error, if any.
    var errorState: String? { sqlState }

    /// The script-visible outcome.
    func result() -> AsyncResult {
        if let error {
            var outputs = [AsyncOutput("error", .string(error))]
            if let sqlState { outputs.append(AsyncOutput("sqlstate", .string(sqlState))) }
            // 57014 query_canceled: statement_timeout (blocking form) or our own cancel request.
            return AsyncResult(rc: sqlState == "57014" ? AsyncResult.rcTimeout : AsyncResult.rcError, outputs: outputs)
        }
        var outputs: [AsyncOutput] = []
        outputs.reserveCapacity(columns.count + 2)
        for (index, values) in columns.enumerated() {
            outputs.append(AsyncOutput(PostgresQueryOperation.outputName(column: index), .list(values)))
        }
        outputs.append(AsyncOutput("rows", .int(rowCount)))
        if let affected { outputs.append(AsyncOutput("affected", .int(affected))) }
        return AsyncResult(rc: rowCount > 0 ? AsyncResult.rcSuccess : AsyncResult.rcNotFound, outputs: outputs)
    }
}
