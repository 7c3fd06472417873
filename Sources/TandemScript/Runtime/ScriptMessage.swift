/// The SIP message as seen by the script; the proxy implements it over its real message type.
///
/// Methods are called on the worker that owns the message, never concurrently.
public protocol ScriptMessage: AnyObject {
    /// Reads a pseudo-variable. `name` is the header name for `$hdr(name)`; `index` selects the
    /// n-th occurrence (0-based, negative from the end) when given. Absent values are `.null`.
    func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue
    /// Writes a writable pseudo-variable (`$ru $rU $rd $rp $du`); `.null` resets it. Returns success.
    func set(_ pv: MessagePV, value: ScriptValue) -> Bool
    /// True for requests, false for replies.
    var isRequest: Bool { get }
    /// Request method (or CSeq method for replies).
    var method: String { get }
    /// Whether the To header carries a tag.
    var hasToTag: Bool { get }
    /// Script flags of this message/transaction (bit n = flag n).
    var flags: UInt64 { get set }
    /// Appends a raw header line (text includes the trailing CRLF as written by the script).
    func appendHeader(_ raw: String)
    /// Inserts a raw header line before the first header.
    func insertHeader(_ raw: String)
    /// Removes every header with this name (case-insensitive, compact forms included); returns count.
    func removeHeader(named name: String) -> Int
    /// Whether at least one header with this name exists.
    func isHeaderPresent(named name: String) -> Bool
    /// Replaces the value of the first header with this name; false if absent.
    func replaceHeader(named name: String, value: String) -> Bool
    /// The whole message as text (start line, headers, body), for textops `search`/`subst`.
    var rawText: String { get }
    /// Replaces the whole message with `text` (parsed again); false if it does not parse.
    func replaceRaw(_ text: String) -> Bool
    /// Replaces the body (Content-Length follows); false if not possible.
    func replaceBody(_ text: String) -> Bool
    /// The branch of the transaction the message belongs to, for log lines (nil when unknown).
    var transactionBranch: String? { get }
    /// The names of the message's header lines in order (repeats included), for `remove_hf_re` & co.
    var headerNames: [String] { get }
    /// Every value of header `name` (as `$hdr(name)[i]` reads them, in order), in one pass (the default
    /// reads `$hdr(name)[i]` up to 16 times).
    func headerValues(named name: String) -> [String]
    /// The digest credentials for `realm` (any realm when nil) among the first 16 values of header
    /// `header` (`Authorization` or `Proxy-Authorization`), as ``DigestCredentials/find(in:realm:)``.
    func credentials(header: String, realm: String?) -> DigestCredentials?
}

extension ScriptMessage {
    public var transactionBranch: String? { nil }
    public var headerNames: [String] { [] }
    public var rawText: String { self.get(.message, name: nil, index: nil).stringValue }
    public func replaceRaw(_ text: String) -> Bool { false }
    public func replaceBody(_ text: String) -> Bool { false }

    public func credentials(header: String, realm: String?) -> DigestCredentials? {
        DigestCredentials.find(in: Array(headerValues(named: header).prefix(16)), realm: realm)
    }

    public func headerValues(named name: String) -> [String] {
        var values: [String] = []
        while values.count < 16 {  // a message that ignores the index would repeat its first value
            let value = get(.header, name: name, index: values.count)
            if value.isNull { break }
            values.append(value.stringValue)
        }
        return values
    }
}
