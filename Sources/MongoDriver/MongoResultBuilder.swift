import Glibc
import TandemAsync

/// Turns the outcome of one command into the script-visible ``AsyncResult`` (see
/// ``MongoCommandOperation`` and ``MongoRawQueryOperation`` for the outputs).
enum MongoResultBuilder {
    /// Column outputs `col0`…: one per projection key (inclusion projection of a `find`), else one per
    /// key of the first document, in order; each a `.list` with one entry per document (absent/null → nil).
    static func columns(_ documents: [BSONDocument], projectionKeys: [String]?) -> AsyncResult {
        let keys = projectionKeys ?? documents.first?.keys ?? []
        var outputs: [AsyncOutput] = []
        outputs.reserveCapacity(keys.count + 2)
        for (index, key) in keys.enumerated() {
            var values: [String?] = []
            values.reserveCapacity(documents.count)
            for document in documents { values.append(document.text(at: key)) }
            outputs.append(AsyncOutput(MongoCommandOperation.outputName(column: index), .list(values)))
        }
        outputs.append(AsyncOutput("keys", .list(keys)))
        outputs.append(AsyncOutput("rows", .int(documents.count)))
        return AsyncResult(rc: documents.isEmpty ? AsyncResult.rcNotFound : AsyncResult.rcSuccess, outputs: outputs)
    }

    /// Milliseconds on the monotonic clock.
    static func nowMs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }

    /// Output `json`: every document as relaxed extended JSON.
    static func json(_ documents: [BSONDocument]) -> AsyncResult {
        AsyncResult(rc: documents.isEmpty ? AsyncResult.rcNotFound : AsyncResult.rcSuccess, outputs: [
            AsyncOutput("json", .list(documents.map { $0.relaxedJSON })),
            AsyncOutput("rows", .int(documents.count)),
        ])
    }

    /// rc -3 for a timeout (see ``MongoError/isTimeout(elapsedMs:socketTimeoutMs:)``), -1 otherwise;
    /// output `error`, and ``MongoCommandOperation/unreachableOutput`` (`.int(1)`) when no server answered (backend health).
    static func failure(_ error: MongoError, elapsedMs: UInt64, pool: MongoClientPool) -> AsyncResult {
        let timedOut = error.isTimeout(elapsedMs: elapsedMs, socketTimeoutMs: pool.socketTimeoutMs)
        var outputs = [AsyncOutput("error", .string(error.message))]
        if error.isUnreachable { outputs.append(AsyncOutput(MongoCommandOperation.unreachableOutput, .int(1))) }
        return AsyncResult(rc: timedOut ? AsyncResult.rcTimeout : AsyncResult.rcError, outputs: outputs)
    }
}
