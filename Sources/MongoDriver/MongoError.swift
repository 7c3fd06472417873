import CMongoC

/// A failure of the MongoDB driver: a bad URL or command document, a connection or server error.
public struct MongoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libbson/libmongoc error domain (`0` for errors raised by this driver).
    public var domain: UInt32
    /// libmongoc error code, or the server's error code for server errors.
    public var code: UInt32
    /// Human-readable message.
    public var message: String

    /// Creates an error.
    public init(domain: UInt32 = 0, code: UInt32 = 0, message: String) {
        self.domain = domain
        self.code = code
        self.message = message
    }

    init(_ error: bson_error_t) {
        var copy = error
        let text = withUnsafeBytes(of: &copy.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        self.init(domain: error.domain, code: error.code, message: text)
    }

    public var description: String { message }

    /// Whether no server could be reached: server selection failed, or the connection broke (stream
    /// errors). A server that answered with an error (a bad command, a write error) is reachable.
    public var isUnreachable: Bool {
        domain == MONGOC_ERROR_SERVER_SELECTION.rawValue || domain == MONGOC_ERROR_STREAM.rawValue
    }

    /// Whether the error means the call ran out of time: the server's `MaxTimeMSExpired` (code 50), or
    /// a socket error after at least `socketTimeoutMs` (libmongoc reports a read timeout and a broken
    /// connection with the same "socket error or timeout" code, so the elapsed time decides).
    public func isTimeout(elapsedMs: UInt64, socketTimeoutMs: Int) -> Bool {
        if code == 50 { return true }
        if domain == MONGOC_ERROR_STREAM.rawValue && code == MONGOC_ERROR_STREAM_SOCKET.rawValue {
            return elapsedMs + 50 >= UInt64(max(0, socketTimeoutMs))
        }
        return false
    }
}
