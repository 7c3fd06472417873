import TandemAsync

/// One query waiting for, or running on, a pooled connection (loop thread only).
final class PostgresRequest {
    let id: UInt64
    let sql: String
    let parameters: [String?]
    let completion: (AsyncResult) -> Void
    /// Set once the request was re-queued after its send failed on a dead connection.
    var retried = false

    init(id: UInt64, sql: String, parameters: [String?], completion: @escaping (AsyncResult) -> Void) {
        self.id = id
        self.sql = sql
        self.parameters = parameters
        self.completion = completion
    }
}
