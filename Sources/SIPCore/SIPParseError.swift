/// Why a SIP message (or one of its header values) could not be parsed or validated.
///
/// `shouldReply400` tells a server whether RFC 3261 §8.2 / §16.3 asks for a `400 Bad Request`:
/// the message is a request whose method parsed and whose top Via is usable for the reply, or whose
/// Via does not parse but whose Call-ID is readable (the reply then goes to the source address)
/// (answer `505 Version Not Supported` instead when the reason is `badVersion`).
/// Otherwise the message must be silently discarded.
public struct SIPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What exactly is wrong.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// Empty datagram (or only CRLFs, e.g. a keep-alive).
        case empty
        /// Datagram exceeds the configured size limit.
        case tooLarge
        /// Start line is not a request line or status line, or has extra/missing spaces.
        case badStartLine
        /// SIP-Version is not SIP/2.0.
        case badVersion
        /// Method is not a token.
        case badMethod
        /// Status code is not three digits in 100...699.
        case badStatusCode
        /// Reason phrase contains forbidden bytes.
        case badReasonPhrase
        /// Request-URI malformed (LWS inside, <> around it, headers in a SIP URI, bad scheme...).
        case badRequestURI
        /// Header line does not start with a token followed by a colon.
        case badHeaderName
        /// Header section ends before the blank line / a line is malformed.
        case truncated
        /// A header required for this operation is absent.
        case missingHeader(HeaderName)
        /// A header that may appear only once appears several times with different values.
        case duplicateHeader(HeaderName)
        case badVia
        case badCSeq
        /// CSeq method differs from the request method.
        case cseqMethodMismatch
        case badCallID
        case badFrom
        case badTo
        case badContact
        case badMaxForwards
        case badContentLength
        /// The body is shorter than Content-Length says.
        case contentLengthMismatch
        /// A URI could not be parsed.
        case badURI
        /// Any other header value that failed to parse.
        case badHeaderValue(HeaderName)

        public var description: String {
            switch self {
            case .missingHeader(let h): "missing header \(h)"
            case .duplicateHeader(let h): "duplicate header \(h)"
            case .badHeaderValue(let h): "bad value in header \(h)"
            case .empty: "empty message"
            case .tooLarge: "message too large"
            case .badStartLine: "bad start line"
            case .badVersion: "unsupported SIP version"
            case .badMethod: "bad method"
            case .badStatusCode: "bad status code"
            case .badReasonPhrase: "bad reason phrase"
            case .badRequestURI: "bad Request-URI"
            case .badHeaderName: "bad header name"
            case .truncated: "truncated message"
            case .badVia: "bad Via"
            case .badCSeq: "bad CSeq"
            case .cseqMethodMismatch: "CSeq method does not match request method"
            case .badCallID: "bad Call-ID"
            case .badFrom: "bad From"
            case .badTo: "bad To"
            case .badContact: "bad Contact"
            case .badMaxForwards: "bad Max-Forwards"
            case .badContentLength: "bad Content-Length"
            case .contentLengthMismatch: "body shorter than Content-Length"
            case .badURI: "bad URI"
            }
        }
    }

    public var reason: Reason
    /// True when the message is a request that should be answered with 400 (see type doc).
    public var shouldReply400: Bool

    public init(_ reason: Reason, shouldReply400: Bool = false) {
        self.reason = reason
        self.shouldReply400 = shouldReply400
    }

    public var description: String { "SIP parse error: \(reason)\(shouldReply400 ? " (reply 400)" : "")" }
}
