import CLibPQ
import Reactor
import TandemAsync

/// One pooled libpq connection in non-blocking mode and where it is in its life (loop thread only).
/// The pool owns its reactor registration (it outlives any single query) and its timer.
///
/// With ``pipelined`` set the connection is in libpq pipeline mode (`PQenterPipelineMode`): up to the
/// pool's pipeline depth statements are in flight at once, each followed by its own sync point
/// (`PQpipelineSync`), so an error aborts only that statement. Their results come back in the order
/// they were sent and are matched to ``inFlight`` from the front.
final class PostgresConnection {
    enum Phase: Equatable {
        /// `PQconnectPoll` in progress.
        case connecting
        /// Ready for a query; the socket is watched so a server-side close is noticed.
        case idle
        /// Running the statements of ``inFlight``.
        case busy
        /// Its only query was abandoned; reading results until the connection is idle again.
        case draining
        /// Closed and removed from the pool (`conn` is freed).
        case closed
    }

    /// One statement sent on the connection whose results are not all read yet.
    final class Statement {
        /// Its request; `nil` once abandoned (its results are then read and discarded).
        var request: PostgresRequest?
        var collector = PostgresResultCollector()
        /// Pipeline mode: its results are over (`PQgetResult` gave NULL), its sync point comes next.
        var awaitingSync = false
        /// Its text is being prepared (`PQsendPrepare`): the prepare's result comes first. Without a
        /// pipeline the statement itself is sent once that result says the text is prepared.
        var preparing = false
        /// The prepared statement it runs (nil: unprepared).
        var preparedName: String?
        /// When it was sent (its latency feeds the pool's sizing).
        let sentAt: Deadline

        init(request: PostgresRequest, sentAt: Deadline) {
            self.request = request
            self.sentAt = sentAt
        }
    }

    /// What one step of reading produced.
    enum ReadStep {
        /// Nothing complete yet: wait for the socket.
        case wait
        /// The first statement of ``inFlight`` is complete (its collector holds the outcome).
        case finished
        /// The connection broke (or is unusable, e.g. COPY): every statement on it fails.
        case broken(String)
        /// Without a pipeline: the first statement's text is now prepared; send the statement itself.
        case prepared
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
    /// The cancel request of a drain, until its thread has sent it.
    var pendingCancel: PostgresCancelRequest.Progress?
    /// Polls ``pendingCancel`` once the drained statement is over before its cancel request went out.
    var cancelPoll: TimerID?
    /// Sent statements, oldest first (at most one unless ``pipelined``).
    var inFlight: [Statement] = []
    /// In libpq pipeline mode.
    var pipelined = false
    /// The named prepared statements of this connection, by query text (``PostgresPoolConfiguration/preparesStatements``).
    var prepared: [String: String] = [:]
    /// Numbers the prepared statements' names (never reused, so a failed prepare leaves no clash).
    var preparedCount = 0
    /// Texts run once, unprepared: a text is prepared at its second use, so a one-off text (a script
    /// that builds its SQL from values) costs no prepare round trip. Emptied when it reaches 256.
    var seenOnce: Set<String> = []
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

    /// The statement running `requestID`, if it is on this connection and not abandoned.
    func statement(for requestID: UInt64) -> Statement? {
        inFlight.first { $0.request?.id == requestID }
    }

    /// Reads what the socket has (call ``step()`` afterwards until it returns ``ReadStep/wait``).
    /// Returns `false` if the connection broke.
    func consumeInput() -> Bool {
        PQconsumeInput(conn) != 0 && !isBad
    }

    /// Hands the results that are complete to the first statement of ``inFlight``.
    /// Returns ``ReadStep/finished`` once that statement is over (the caller removes it).
    func step() -> ReadStep {
        guard let head = inFlight.first else { return .wait }
        var strayNulls = 0
        while PQisBusy(conn) == 0 {
            let result = PQgetResult(conn)
            if pipelined && head.awaitingSync {
                guard let result else {
                    // The sync point is the next result; a second NULL in a row means libpq has nothing
                    // queued for us: report it instead of spinning.
                    strayNulls += 1
                    if strayNulls > 1 { return .broken("pipeline out of step: no sync point after a statement") }
                    continue
                }
                let status = PQresultStatus(result)
                PQclear(result)
                if status == PGRES_PIPELINE_SYNC { return .finished }
                return .broken("unexpected result \(String(cString: PQresStatus(status))) before the sync point")
            }
            guard let result else {
                if head.preparing {
                    // The prepare is over: on to the statement (sent behind it in a pipeline, else now).
                    head.preparing = false
                    if head.collector.failed {
                        if let name = head.preparedName { forget(name) }
                        if !pipelined { return .finished }
                    } else if !pipelined {
                        return .prepared
                    }
                    continue
                }
                if !pipelined { return .finished }
                head.awaitingSync = true
                continue
            }
            let status = PQresultStatus(result)
            if head.preparing && status == PGRES_COMMAND_OK {
                PQclear(result)  // the prepare succeeded: nothing for the caller
                continue
            }
            if status == PGRES_PIPELINE_ABORTED {
                // Not expected (each statement has its own sync point); reported, not hidden.
                head.collector.fail("statement skipped: an earlier statement of its pipeline failed")
            } else {
                head.collector.add(result)
            }
            PQclear(result)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                head.collector.fail("COPY is not supported")
                return .broken("COPY is not supported")
            }
            if isBad { return .broken(errorMessage) }
        }
        if isBad { return .broken(errorMessage) }
        return .wait
    }

    /// Drops a prepared statement from the cache (its prepare failed, or the server no longer has a
    /// usable plan for it): the next use of its text prepares it anew under another name.
    func forget(_ name: String) {
        if let key = prepared.first(where: { $0.value == name })?.key { prepared[key] = nil }
    }

    /// Whether the connection can take another query (nothing pending in libpq, not inside a transaction).
    var isReusable: Bool {
        !isBad && PQtransactionStatus(conn) == PQTRANS_IDLE && PQisBusy(conn) == 0
    }
}
