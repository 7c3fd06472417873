import CLibPQ
import Reactor
import TandemAsync

/// One pooled libpq connection in non-blocking mode and where it is in its life (loop thread only).
/// The pool owns its reactor registration (it outlives any single query) and its timer.
final class PostgresConnection {
    enum Phase: Equatable {
        /// `PQconnectPoll` in progress.
        case connecting
        /// Ready for a query; the socket is watched so a server-side close is noticed.
        case idle
        /// Running ``request``.
        case busy
        /// Its query was abandoned; reading results until the connection is idle again.
        case draining
        /// Closed and removed from the pool (`conn` is freed).
        case closed
    }

    /// The pool state machine's name for it.
    let id: PoolConnectionID
    let conn: OpaquePointer
    var fd: Int32 = -1
    var registration: RegistrationID?
    var interest: Interest = .write
    var phase: Phase = .connecting
    /// Connect timeout or drain deadline.
    var timer: TimerID?
    var request: PostgresRequest?
    var collector = PostgresResultCollector()
    /// `PQflush` reported unsent data: wait for writability.
    var flushing = false
    var connectPolls = 0
    let startedAt: Deadline

    init(id: PoolConnectionID, conn: OpaquePointer, startedAt: Deadline) {
        self.id = id
        self.conn = conn
        self.startedAt = startedAt
    }

    var errorMessage: String { trimmedMessage(PQerrorMessage(conn)) }
    var isBad: Bool { PQstatus(conn) == CONNECTION_BAD }

    /// Reads what the socket has and hands finished results to `collector`.
    /// Returns `true` once the statement is complete (`PQgetResult` gave NULL), `false` to keep waiting;
    /// a broken connection is recorded in the collector and reported as complete.
    func readResults() -> Bool {
        if PQconsumeInput(conn) == 0 {
            collector.fail(errorMessage)
            return true
        }
        while PQisBusy(conn) == 0 {
            guard let result = PQgetResult(conn) else { return true }
            let status = PQresultStatus(result)
            collector.add(result)
            PQclear(result)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                collector.fail("COPY is not supported")
                return true  // the caller drops the connection (it is not idle)
            }
            if isBad {
                collector.fail(errorMessage)
                return true
            }
        }
        if isBad {
            collector.fail(errorMessage)
            return true
        }
        return false
    }

    /// Whether the connection can take another query.
    var isReusable: Bool {
        !isBad && PQtransactionStatus(conn) == PQTRANS_IDLE && PQisBusy(conn) == 0
    }
}
