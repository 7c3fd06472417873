import CMariaDB
import Glibc
import Reactor
import TandemAsync

/// One pooled client handle in non-blocking mode and where it is in its life (loop thread only).
/// The pool owns its reactor registration (it outlives any single query) and its timers.
///
/// A suspended library call is kept as ``resume`` (the matching `*_cont`) and ``then`` (what follows
/// when it completes); the pool waits for what ``waitingFor`` asks (`MYSQL_WAIT_*` bits).
final class MySQLConnection {
    enum Phase: Equatable {
        /// `mysql_real_connect_start/_cont` in progress.
        case connecting
        /// Ready for a query; the socket is watched so a server-side close is noticed.
        case idle
        /// Running ``request``.
        case busy
        /// Closed and removed from the pool (`mysql` is freed).
        case closed
    }

    /// The pool state machine's name for it.
    let id: PoolConnectionID
    let mysql: UnsafeMutablePointer<MYSQL>
    var fd: Int32 = -1
    var registration: RegistrationID?
    var interest: Interest = .read
    var phase: Phase = .connecting
    /// Connect timeout.
    var timer: TimerID?
    /// The timeout the library asked for (`MYSQL_WAIT_TIMEOUT`).
    var libraryTimer: TimerID?
    var request: MySQLRequest?
    var collector = MySQLResultCollector()

    /// The suspended call's `*_cont` (given the events that happened, returns the next wait or 0).
    var resume: ((Int32) -> Int32)?
    /// Runs when the suspended call completes.
    var then: (() -> Void)?
    /// `MYSQL_WAIT_*` bits of the suspended call.
    var waitingFor: Int32 = 0
    var steps = 0

    /// Return slots of the library calls (written when a call completes).
    var connectReturn: UnsafeMutablePointer<MYSQL>?
    var intReturn: Int32 = 0
    var resultReturn: UnsafeMutablePointer<MYSQL_RES>?

    /// Strings and parameter buffers of the call in progress.
    let strings = MySQLRetainedStrings()
    var parameters: MySQLParameterBuffers?
    /// Prepared statements by SQL text.
    var statements: [String: UnsafeMutablePointer<MYSQL_STMT>] = [:]
    let startedAt: Deadline

    init(id: PoolConnectionID, mysql: UnsafeMutablePointer<MYSQL>, startedAt: Deadline) {
        self.id = id
        self.mysql = mysql
        self.startedAt = startedAt
    }

    var errorMessage: String { mysql_error(mysql).map { String(cString: $0) } ?? "" }

    /// Whether the connection can take another query after the one that just finished.
    var isReusable: Bool { !collector.connectionBroken && !MySQLHandle.inTransaction(mysql) }

    /// Frees the handle and its statements. A call still suspended is aborted: the socket is shut down
    /// first, so the goodbye the library sends fails at once instead of waiting.
    func close() {
        guard phase != .closed else { return }
        if resume != nil, fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        resume = nil
        then = nil
        mysql_close(mysql)
        // The handle is gone: closing a statement now only frees its memory (no I/O).
        for statement in statements.values { mysql_stmt_close(statement) }
        statements.removeAll()
        parameters = nil
        strings.release()
        phase = .closed
    }
}
