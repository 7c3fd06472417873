/// Canonical name of a SIP header field (RFC 3261 §7.3, §20 and common extensions).
///
/// Known headers, including their compact forms (`v` for Via, `i` for Call-ID, ...), map to a
/// dedicated case; anything else is `.other` with the name as written. Names compare
/// case-insensitively, also for `.other`.
public enum HeaderName: Sendable, CustomStringConvertible {
    /// `Accept`.
    case accept
    /// `Accept-Contact` (compact form `a`).
    case acceptContact
    /// `Accept-Encoding`.
    case acceptEncoding
    /// `Accept-Language`.
    case acceptLanguage
    /// `Alert-Info`.
    case alertInfo
    /// `Allow`.
    case allow
    /// `Allow-Events` (compact form `u`).
    case allowEvents
    /// `Authentication-Info`.
    case authenticationInfo
    /// `Authorization`.
    case authorization
    /// `Call-ID` (compact form `i`).
    case callID
    /// `Call-Info`.
    case callInfo
    /// `Contact` (compact form `m`).
    case contact
    /// `Content-Disposition`.
    case contentDisposition
    /// `Content-Encoding` (compact form `e`).
    case contentEncoding
    /// `Content-Language`.
    case contentLanguage
    /// `Content-Length` (compact form `l`).
    case contentLength
    /// `Content-Type` (compact form `c`).
    case contentType
    /// `CSeq`.
    case cseq
    /// `Date`.
    case date
    /// `Error-Info`.
    case errorInfo
    /// `Event` (compact form `o`).
    case event
    /// `Expires`.
    case expires
    /// `From` (compact form `f`).
    case from
    /// `Identity` (compact form `y`).
    case identity
    /// `Identity-Info` (compact form `n`).
    case identityInfo
    /// `In-Reply-To`.
    case inReplyTo
    /// `Max-Forwards`.
    case maxForwards
    /// `MIME-Version`.
    case mimeVersion
    /// `Min-Expires`.
    case minExpires
    /// `Min-SE`.
    case minSE
    /// `Organization`.
    case organization
    /// `Path`.
    case path
    /// `P-Asserted-Identity`.
    case pAssertedIdentity
    /// `P-Preferred-Identity`.
    case pPreferredIdentity
    /// `Priority`.
    case priority
    /// `Privacy`.
    case privacy
    /// `Proxy-Authenticate`.
    case proxyAuthenticate
    /// `Proxy-Authorization`.
    case proxyAuthorization
    /// `Proxy-Require`.
    case proxyRequire
    /// `RAck`.
    case rack
    /// `Reason`.
    case reason
    /// `Record-Route`.
    case recordRoute
    /// `Refer-To` (compact form `r`).
    case referTo
    /// `Referred-By` (compact form `b`).
    case referredBy
    /// `Reject-Contact` (compact form `j`).
    case rejectContact
    /// `Replaces`.
    case replaces
    /// `Reply-To`.
    case replyTo
    /// `Request-Disposition` (compact form `d`).
    case requestDisposition
    /// `Require`.
    case require
    /// `Retry-After`.
    case retryAfter
    /// `Route`.
    case route
    /// `RSeq`.
    case rseq
    /// `Server`.
    case server
    /// `Session-Expires` (compact form `x`).
    case sessionExpires
    /// `Subject` (compact form `s`).
    case subject
    /// `Subscription-State`.
    case subscriptionState
    /// `Supported` (compact form `k`).
    case supported
    /// `Timestamp`.
    case timestamp
    /// `To` (compact form `t`).
    case to
    /// `Unsupported`.
    case unsupported
    /// `User-Agent`.
    case userAgent
    /// `Via` (compact form `v`).
    case via
    /// `Warning`.
    case warning
    /// `WWW-Authenticate`.
    case wwwAuthenticate
    /// Any other header field, with its name as written.
    case other(String)

    /// Internal numeric code: 0 for `.other`, otherwise the 1-based index into `HeaderName.table`.
    var code: UInt8 {
        switch self {
        case .accept: return 1
        case .acceptContact: return 2
        case .acceptEncoding: return 3
        case .acceptLanguage: return 4
        case .alertInfo: return 5
        case .allow: return 6
        case .allowEvents: return 7
        case .authenticationInfo: return 8
        case .authorization: return 9
        case .callID: return 10
        case .callInfo: return 11
        case .contact: return 12
        case .contentDisposition: return 13
        case .contentEncoding: return 14
        case .contentLanguage: return 15
        case .contentLength: return 16
        case .contentType: return 17
        case .cseq: return 18
        case .date: return 19
        case .errorInfo: return 20
        case .event: return 21
        case .expires: return 22
        case .from: return 23
        case .identity: return 24
        case .identityInfo: return 25
        case .inReplyTo: return 26
        case .maxForwards: return 27
        case .mimeVersion: return 28
        case .minExpires: return 29
        case .minSE: return 30
        case .organization: return 31
        case .path: return 32
        case .pAssertedIdentity: return 33
        case .pPreferredIdentity: return 34
        case .priority: return 35
        case .privacy: return 36
        case .proxyAuthenticate: return 37
        case .proxyAuthorization: return 38
        case .proxyRequire: return 39
        case .rack: return 40
        case .reason: return 41
        case .recordRoute: return 42
        case .referTo: return 43
        case .referredBy: return 44
        case .rejectContact: return 45
        case .replaces: return 46
        case .replyTo: return 47
        case .requestDisposition: return 48
        case .require: return 49
        case .retryAfter: return 50
        case .route: return 51
        case .rseq: return 52
        case .server: return 53
        case .sessionExpires: return 54
        case .subject: return 55
        case .subscriptionState: return 56
        case .supported: return 57
        case .timestamp: return 58
        case .to: return 59
        case .unsupported: return 60
        case .userAgent: return 61
        case .via: return 62
        case .warning: return 63
        case .wwwAuthenticate: return 64
        case .other: return 0
        }
    }

    /// Static description of every known header, indexed by `code - 1`.
    static let table: [HeaderInfo] = [
        HeaderInfo(name: .accept, canonical: "Accept", compact: nil, isList: true),
        HeaderInfo(name: .acceptContact, canonical: "Accept-Contact", compact: UInt8(ascii: "a"), isList: true),
        HeaderInfo(name: .acceptEncoding, canonical: "Accept-Encoding", compact: nil, isList: true),
        HeaderInfo(name: .acceptLanguage, canonical: "Accept-Language", compact: nil, isList: true),
        HeaderInfo(name: .alertInfo, canonical: "Alert-Info", compact: nil, isList: true),
        HeaderInfo(name: .allow, canonical: "Allow", compact: nil, isList: true),
        HeaderInfo(name: .allowEvents, canonical: "Allow-Events", compact: UInt8(ascii: "u"), isList: true),
        HeaderInfo(name: .authenticationInfo, canonical: "Authentication-Info", compact: nil, isList: false),
        HeaderInfo(name: .authorization, canonical: "Authorization", compact: nil, isList: false),
        HeaderInfo(name: .callID, canonical: "Call-ID", compact: UInt8(ascii: "i"), isList: false),
        HeaderInfo(name: .callInfo, canonical: "Call-Info", compact: nil, isList: true),
        HeaderInfo(name: .contact, canonical: "Contact", compact: UInt8(ascii: "m"), isList: true),
        HeaderInfo(name: .contentDisposition, canonical: "Content-Disposition", compact: nil, isList: true),
        HeaderInfo(name: .contentEncoding, canonical: "Content-Encoding", compact: UInt8(ascii: "e"), isList: true),
        HeaderInfo(name: .contentLanguage, canonical: "Content-Language", compact: nil, isList: true),
        HeaderInfo(name: .contentLength, canonical: "Content-Length", compact: UInt8(ascii: "l"), isList: false),
        HeaderInfo(name: .contentType, canonical: "Content-Type", compact: UInt8(ascii: "c"), isList: false),
        HeaderInfo(name: .cseq, canonical: "CSeq", compact: nil, isList: false),
        HeaderInfo(name: .date, canonical: "Date", compact: nil, isList: false),
        HeaderInfo(name: .errorInfo, canonical: "Error-Info", compact: nil, isList: true),
        HeaderInfo(name: .event, canonical: "Event", compact: UInt8(ascii: "o"), isList: false),
        HeaderInfo(name: .expires, canonical: "Expires", compact: nil, isList: false),
        HeaderInfo(name: .from, canonical: "From", compact: UInt8(ascii: "f"), isList: false),
        HeaderInfo(name: .identity, canonical: "Identity", compact: UInt8(ascii: "y"), isList: false),
        HeaderInfo(name: .identityInfo, canonical: "Identity-Info", compact: UInt8(ascii: "n"), isList: false),
        HeaderInfo(name: .inReplyTo, canonical: "In-Reply-To", compact: nil, isList: false),
        HeaderInfo(name: .maxForwards, canonical: "Max-Forwards", compact: nil, isList: false),
        HeaderInfo(name: .mimeVersion, canonical: "MIME-Version", compact: nil, isList: false),
        HeaderInfo(name: .minExpires, canonical: "Min-Expires", compact: nil, isList: false),
        HeaderInfo(name: .minSE, canonical: "Min-SE", compact: nil, isList: false),
        HeaderInfo(name: .organization, canonical: "Organization", compact: nil, isList: false),
        HeaderInfo(name: .path, canonical: "Path", compact: nil, isList: true),
        HeaderInfo(name: .pAssertedIdentity, canonical: "P-Asserted-Identity", compact: nil, isList: true),
        HeaderInfo(name: .pPreferredIdentity, canonical: "P-Preferred-Identity", compact: nil, isList: true),
        HeaderInfo(name: .priority, canonical: "Priority", compact: nil, isList: false),
        HeaderInfo(name: .privacy, canonical: "Privacy", compact: nil, isList: true),
        HeaderInfo(name: .proxyAuthenticate, canonical: "Proxy-Authenticate", compact: nil, isList: false),
        HeaderInfo(name: .proxyAuthorization, canonical: "Proxy-Authorization", compact: nil, isList: false),
        HeaderInfo(name: .proxyRequire, canonical: "Proxy-Require", compact: nil, isList: true),
        HeaderInfo(name: .rack, canonical: "RAck", compact: nil, isList: false),
        HeaderInfo(name: .reason, canonical: "Reason", compact: nil, isList: true),
        HeaderInfo(name: .recordRoute, canonical: "Record-Route", compact: nil, isList: true),
        HeaderInfo(name: .referTo, canonical: "Refer-To", compact: UInt8(ascii: "r"), isList: false),
        HeaderInfo(name: .referredBy, canonical: "Referred-By", compact: UInt8(ascii: "b"), isList: false),
        HeaderInfo(name: .rejectContact, canonical: "Reject-Contact", compact: UInt8(ascii: "j"), isList: true),
        HeaderInfo(name: .replaces, canonical: "Replaces", compact: nil, isList: false),
        HeaderInfo(name: .replyTo, canonical: "Reply-To", compact: nil, isList: false),
        HeaderInfo(name: .requestDisposition, canonical: "Request-Disposition", compact: UInt8(ascii: "d"), isList: true),
        HeaderInfo(name: .require, canonical: "Require", compact: nil, isList: true),
        HeaderInfo(name: .retryAfter, canonical: "Retry-After", compact: nil, isList: false),
        HeaderInfo(name: .route, canonical: "Route", compact: nil, isList: true),
        HeaderInfo(name: .rseq, canonical: "RSeq", compact: nil, isList: false),
        HeaderInfo(name: .server, canonical: "Server", compact: nil, isList: false),
        HeaderInfo(name: .sessionExpires, canonical: "Session-Expires", compact: UInt8(ascii: "x"), isList: false),
        HeaderInfo(name: .subject, canonical: "Subject", compact: UInt8(ascii: "s"), isList: false),
        HeaderInfo(name: .subscriptionState, canonical: "Subscription-State", compact: nil, isList: false),
        HeaderInfo(name: .supported, canonical: "Supported", compact: UInt8(ascii: "k"), isList: true),
        HeaderInfo(name: .timestamp, canonical: "Timestamp", compact: nil, isList: false),
        HeaderInfo(name: .to, canonical: "To", compact: UInt8(ascii: "t"), isList: false),
        HeaderInfo(name: .unsupported, canonical: "Unsupported", compact: nil, isList: true),
        HeaderInfo(name: .userAgent, canonical: "User-Agent", compact: nil, isList: false),
        HeaderInfo(name: .via, canonical: "Via", compact: UInt8(ascii: "v"), isList: true),
        HeaderInfo(name: .warning, canonical: "Warning", compact: nil, isList: true),
        HeaderInfo(name: .wwwAuthenticate, canonical: "WWW-Authenticate", compact: nil, isList: false),
    ]
}
