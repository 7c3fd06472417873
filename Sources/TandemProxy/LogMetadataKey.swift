/// Metadata keys Tandem's log lines use, so every line about one call can be found by the same key.
public enum LogMetadataKey {
    /// The Call-ID of the message the line concerns.
    public static let callID = "call_id"
    /// The server transaction's branch (top Via branch of the request as received).
    public static let branch = "branch"
    /// The request method (or the CSeq method of a reply).
    public static let method = "method"
    /// The CSeq number.
    public static let cseq = "cseq"
    /// The script route running (`request`, `failure_route[x]`, …).
    public static let route = "route"
    /// The address a datagram came from.
    public static let peer = "peer"
    /// The next hop a branch was sent to.
    public static let destination = "destination"
    /// Why: a parse error, an I/O error.
    public static let error = "error"
    /// A SIP status code Tandem chose (408, 503, 500, …).
    public static let status = "status"
}
