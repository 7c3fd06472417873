import TandemAsync

/// One query waiting for, or running on, a pooled connection (loop thread only).
package final class PostgresRequest: ConnectionPoolRequest {
    package let id: UInt64
    let sql: String
    let parameters: [String?]
    let completion: (AsyncResult) -> Void
    /// Sent again once because its prepared statement's plan no longer fitted (see ``PostgresPool``).
    var replanned = false

    init(id: UInt64, sql: String, parameters: [String?], completion: @escaping (AsyncResult) -> Void) {
        self.id = id
        self.sql = sql
        self.parameters = parameters
        self.completion = completion
    }
}
