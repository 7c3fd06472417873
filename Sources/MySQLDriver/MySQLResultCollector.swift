import CMariaDB
import TandemAsync

/// Turns one statement's outcome into the script-visible ``AsyncResult``, as the PostgreSQL driver does:
/// rc 1 with ≥ 1 row, -2 with none (also for statements without a result set), -1 on error, -3 when the
/// server stopped the statement for its time limit (`max_statement_time`, or our `KILL QUERY`).
/// Outputs: `col0`…`colN-1` (`.list`, one entry per row, NULL → `nil`), `rows` (`.int`), `affected`
/// (`.int`, statements without a result set), `error`, `errno` (`.int`) and `sqlstate` (`.string`) on error.
struct MySQLResultCollector {
    private var columns: [[String?]] = []
    private var rowCount = 0
    private var affected: Int?
    private var error: String?
    private var errorNumber: UInt32 = 0
    private var sqlState: String?
    /// The error came from the client library (connection lost, out of sync…): the connection is not reusable.
    private(set) var connectionBroken = false

    /// Server errors meaning "stopped for time": max_statement_time (MariaDB), its MySQL twin, KILL QUERY.
    static let timeoutErrors: Set<UInt32> = [UInt32(ER_STATEMENT_TIMEOUT), 3024, UInt32(ER_QUERY_INTERRUPTED)]

    /// Records the connection's last error.
    mutating func fail(connection mysql: UnsafeMutablePointer<MYSQL>) {
        record(number: mysql_errno(mysql), message: mysql_error(mysql), state: mysql_sqlstate(mysql))
    }

    /// Records the statement's last error.
    mutating func fail(statement stmt: UnsafeMutablePointer<MYSQL_STMT>) {
        record(number: mysql_stmt_errno(stmt), message: mysql_stmt_error(stmt), state: mysql_stmt_sqlstate(stmt))
    }

    /// Records a failure without a library error.
    mutating func fail(_ message: String, broken: Bool = false) {
        if error == nil { error = message.isEmpty ? "connection to the database failed" : message }
        if broken { connectionBroken = true }
    }

    private mutating func record(number: UInt32, message: UnsafePointer<CChar>?, state: UnsafePointer<CChar>?) {
        guard error == nil else { return }
        let text = message.map { String(cString: $0) } ?? ""
        error = text.isEmpty ? "mysql error \(number)" : text
        errorNumber = number
        if let state { sqlState = String(cString: state) }
        if number == 0 || (number >= UInt32(CR_MIN_ERROR) && number <= UInt32(CR_MAX_ERROR)) { connectionBroken = true }
    }

    /// Rows changed by a statement without a result set.
    mutating func setAffected(_ count: UInt64) {
        if count != UInt64.max { affected = Int(clamping: count) }
    }

    /// Reads a stored text-protocol result (no I/O: `mysql_store_result` has read it all).
    mutating func read(result: UnsafeMutablePointer<MYSQL_RES>) {
        let fields = Int(mysql_num_fields(result))
        var columns = [[String?]](repeating: [], count: fields)
        var rows = 0
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { break }
            for column in 0..<fields {
                if let value = row[column] {
                    let buffer = UnsafeRawBufferPointer(start: value, count: Int(lengths[column]))
                    columns[column].append(String(decoding: buffer, as: UTF8.self))
                } else {
                    columns[column].append(nil)
                }
            }
            rows += 1
        }
        self.columns = columns
        rowCount = rows
    }

    /// Reads a stored prepared-statement result (no I/O after `mysql_stmt_store_result`): every column
    /// fetched as a string (the library formats numbers and dates); long values fetched whole.
    mutating func read(statement stmt: UnsafeMutablePointer<MYSQL_STMT>) {
        let fields = Int(mysql_stmt_field_count(stmt))
        guard fields > 0 else { return }
        let capacity = 256
        let binds = UnsafeMutablePointer<MYSQL_BIND>.allocate(capacity: fields)
        binds.initialize(repeating: MYSQL_BIND(), count: fields)
        let buffers = UnsafeMutablePointer<UInt8>.allocate(capacity: fields * capacity)
        let lengths = UnsafeMutablePointer<UInt>.allocate(capacity: fields)
        lengths.initialize(repeating: 0, count: fields)
        let nulls = UnsafeMutablePointer<my_bool>.allocate(capacity: fields)
        nulls.initialize(repeating: 0, count: fields)
        let errors = UnsafeMutablePointer<my_bool>.allocate(capacity: fields)
        errors.initialize(repeating: 0, count: fields)
        defer {
            binds.deallocate(); buffers.deallocate(); lengths.deallocate(); nulls.deallocate(); errors.deallocate()
        }
        for column in 0..<fields {
            binds[column].buffer_type = MYSQL_TYPE_STRING
            binds[column].buffer = UnsafeMutableRawPointer(buffers + column * capacity)
            binds[column].buffer_length = UInt(capacity)
            binds[column].length = lengths + column
            binds[column].is_null = nulls + column
            binds[column].error = errors + column
        }
        guard mysql_stmt_bind_result(stmt, binds) == 0 else {
            fail(statement: stmt)
            return
        }
        var columns = [[String?]](repeating: [], count: fields)
        var rows = 0
        while true {
            let status = mysql_stmt_fetch(stmt)
            if status == MYSQL_NO_DATA { break }
            if status != 0 && status != MYSQL_DATA_TRUNCATED {
                fail(statement: stmt)
                return
            }
            for column in 0..<fields {
                if nulls[column] != 0 {
                    columns[column].append(nil)
                    continue
                }
                let length = Int(lengths[column])
                if length <= capacity {
                    let buffer = UnsafeRawBufferPointer(start: buffers + column * capacity, count: length)
                    columns[column].append(String(decoding: buffer, as: UTF8.self))
                } else {
                    columns[column].append(Self.fetchWhole(stmt, column: column, length: length))
                }
            }
            rows += 1
        }
        self.columns = columns
        rowCount = rows
    }

    /// A value longer than the row buffer, fetched again into one of its own size.
    private static func fetchWhole(_ stmt: UnsafeMutablePointer<MYSQL_STMT>, column: Int, length: Int) -> String {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: length + 1)
        defer { buffer.deallocate() }
        var actual: UInt = 0
        var bind = MYSQL_BIND()
        bind.buffer_type = MYSQL_TYPE_STRING
        bind.buffer = UnsafeMutableRawPointer(buffer)
        bind.buffer_length = UInt(length + 1)
        return withUnsafeMutablePointer(to: &actual) { actualPointer in
            bind.length = actualPointer
            guard mysql_stmt_fetch_column(stmt, &bind, UInt32(column), 0) == 0 else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: buffer, count: min(length, Int(actualPointer.pointee))),
                          as: UTF8.self)
        }
    }

    /// The script-visible outcome.
    func result() -> AsyncResult {
        if let error {
            var outputs = [AsyncOutput("error", .string(error)), AsyncOutput("errno", .int(Int(errorNumber)))]
            if let sqlState { outputs.append(AsyncOutput("sqlstate", .string(sqlState))) }
            let timedOut = Self.timeoutErrors.contains(errorNumber)
            return AsyncResult(rc: timedOut ? AsyncResult.rcTimeout : AsyncResult.rcError, outputs: outputs)
        }
        var outputs: [AsyncOutput] = []
        outputs.reserveCapacity(columns.count + 2)
        for (index, values) in columns.enumerated() {
            outputs.append(AsyncOutput(MySQLQueryOperation.outputName(column: index), .list(values)))
        }
        outputs.append(AsyncOutput("rows", .int(rowCount)))
        if let affected { outputs.append(AsyncOutput("affected", .int(affected))) }
        return AsyncResult(rc: rowCount > 0 ? AsyncResult.rcSuccess : AsyncResult.rcNotFound, outputs: outputs)
    }
}
