import CMariaDB
import Reactor

/// Stops a statement on the server without blocking the worker: `KILL QUERY <id>` needs a connection of
/// its own (connect, authenticate, send, wait), so it runs on a short-lived detached thread with a blocking
/// handle bounded by short connect/read timeouts.
struct MySQLKillQuery: Sendable {
    /// Where the statement runs.
    let settings: MySQLConnectionSettings
    /// The server's id of the connection running it (`mysql_thread_id`).
    let connectionID: UInt

    /// Sends the request on a detached thread. Returns `false` if no thread could be started (nothing
    /// is sent; the abandoned connection is closed anyway, which the server notices later).
    @discardableResult
    func send() -> Bool {
        let request = self
        do {
            _ = try WorkerThread(name: "mysql-kill") { request.sendNow() }
            return true
        } catch {
            return false
        }
    }

    private func sendNow() {
        guard let mysql = MySQLHandle.make(settings, nonBlocking: false, connectTimeoutMs: 2000, readTimeoutSeconds: 2) else {
            return
        }
        defer { mysql_close(mysql) }
        guard mysql_real_connect(mysql, settings.socket == nil ? settings.host : nil, settings.user.nilIfEmpty, settings.password.nilIfEmpty,
                                 nil, settings.port, settings.socket, 0) != nil else { return }
        _ = mysql_query(mysql, "KILL QUERY \(connectionID)")
    }
}
