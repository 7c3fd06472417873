import TandemAsync

/// One query waiting for, or running on, a pooled connection (loop thread only).
package final class MySQLRequest: ConnectionPoolRequest {
    package let id: UInt64
    let statement: MySQLStatementText
    /// Values in `?` order.
    let values: [String?]
    let completion: (AsyncResult) -> Void

    init(id: UInt64, statement: MySQLStatementText, values: [String?], completion: @escaping (AsyncResult) -> Void) {
        self.id = id
        self.statement = statement
        self.values = values
        self.completion = completion
    }
}
