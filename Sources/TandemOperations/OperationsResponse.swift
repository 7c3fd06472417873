/// One HTTP answer of the operations endpoint (status, content type, body), built without I/O so it
/// can be tested directly.
public struct OperationsResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra headers (e.g. `Allow` on a 405).
    public var headers: [(String, String)] = []

    public init(status: Int, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public static func == (lhs: OperationsResponse, rhs: OperationsResponse) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.headers.elementsEqual(rhs.headers) { $0 == $1 }
    }

    static func text(_ status: Int, _ message: String, headers: [(String, String)] = []) -> OperationsResponse {
        OperationsResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8),
                           headers: headers)
    }
}
