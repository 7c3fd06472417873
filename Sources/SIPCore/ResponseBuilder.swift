/// Building responses to requests (RFC 3261 §8.2.6), e.g. 100 Trying, 400, 483 from the proxy.
extension SIPMessage {
    /// Serialized response to `request`: status line, all Via lines, From, To (with `toTag`
    /// added if given and the To has no tag yet), Call-ID, CSeq, then `extraHeaders`, and the body
    /// (Content-Length always written).
    public static func makeResponse(to request: SIPMessage, status: Int, reason: String? = nil,
                                    toTag: String? = nil, extraHeaders: [(HeaderName, String)] = [],
                                    body: [UInt8] = [], contentType: String? = nil) -> [UInt8] {
        // Written piece by piece (no interpolated line texts): a 100 Trying goes out for every INVITE.
        var out: [UInt8] = []
        out.reserveCapacity(512 + body.count)
        out.append(contentsOf: responseVersion)
        if status >= 0 { appendDecimal(status, to: &out) } else { out.append(contentsOf: String(status).utf8) }
        out.append(ASCII.sp)
        out.append(contentsOf: (reason ?? reasonPhrase(for: status)).utf8)
        out.append(contentsOf: crlf)
        func copy(_ f: HeaderField) {
            if f.isOwned {
                out.append(contentsOf: request.ownedLine(f))
            } else {
                out.append(contentsOf: request.bytes[f.lineStart..<f.nameEnd])
                out.append(contentsOf: colonSP)
                out.append(contentsOf: request.valueBytes(f))
            }
        }
        let viaCode = HeaderName.via.code
        for f in request.fields where f.code == viaCode {
            copy(f)
            out.append(contentsOf: crlf)
        }
        for name in responseCopiedHeaders {
            guard let i = request.firstFieldIndex(name) else { continue }
            let f = request.fields[i]
            copy(f)
            if name == .to, let toTag, (try? request.to())?.tag == nil {
                out.append(contentsOf: tagPrefix)
                out.append(contentsOf: toTag.utf8)
            }
            out.append(contentsOf: crlf)
        }
        for (n, v) in extraHeaders {
            out.append(contentsOf: n.canonicalName.utf8)
            out.append(contentsOf: colonSP)
            out.append(contentsOf: v.utf8)
            out.append(contentsOf: crlf)
        }
        if let contentType, !body.isEmpty {
            out.append(contentsOf: contentTypeLine)
            out.append(contentsOf: contentType.utf8)
            out.append(contentsOf: crlf)
        }
        out.append(contentsOf: contentLengthLine)
        appendDecimal(body.count, to: &out)
        out.append(contentsOf: crlf)
        out.append(contentsOf: crlf)
        out.append(contentsOf: body)
        return out
    }

    /// The headers a response copies from its request after the Vias, in this order.
    private static let responseCopiedHeaders: [HeaderName] = [.from, .to, .callID, .cseq]
    private static let responseVersion: [UInt8] = Array("SIP/2.0 ".utf8)
    private static let tagPrefix: [UInt8] = Array(";tag=".utf8)
    private static let contentTypeLine: [UInt8] = Array("Content-Type: ".utf8)

    /// Default reason phrase for a status code (RFC 3261 §21).
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: "Trying"
        case 180: "Ringing"
        case 181: "Call Is Being Forwarded"
        case 182: "Queued"
        case 183: "Session Progress"
        case 200: "OK"
        case 202: "Accepted"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Moved Temporarily"
        case 305: "Use Proxy"
        case 380: "Alternative Service"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 413: "Request Entity Too Large"
        case 414: "Request-URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Unsupported URI Scheme"
        case 420: "Bad Extension"
        case 421: "Extension Required"
        case 423: "Interval Too Brief"
        case 480: "Temporarily Unavailable"
        case 481: "Call/Transaction Does Not Exist"
        case 482: "Loop Detected"
        case 483: "Too Many Hops"
        case 484: "Address Incomplete"
        case 485: "Ambiguous"
        case 486: "Busy Here"
        case 487: "Request Terminated"
        case 488: "Not Acceptable Here"
        case 491: "Request Pending"
        case 493: "Undecipherable"
        case 500: "Server Internal Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Server Time-out"
        case 505: "Version Not Supported"
        case 513: "Message Too Large"
        case 600: "Busy Everywhere"
        case 603: "Decline"
        case 604: "Does Not Exist Anywhere"
        case 606: "Not Acceptable"
        default: "Unknown"
        }
    }
}
