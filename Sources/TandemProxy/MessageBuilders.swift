import Reactor
import SIPCore

/// Requests and addresses the proxy builds itself: ACK for a non-2xx reply, CANCEL for a pending
/// branch, the reply destination of a Via.
enum MessageBuilders {
    /// The hop-by-hop ACK for a non-2xx final `response` to the INVITE `request` we sent
    /// (RFC 3261 §17.1.1.3): same Request-URI, top Via, Route set, From, Call-ID and CSeq number;
    /// the To of the response.
    static func ack(for request: SIPMessage, response: SIPMessage) -> [UInt8]? {
        guard let uri = request.requestURIText, let via = try? request.topVia(),
              let cseq = try? request.cseq(), let callID = request.callID,
              let from = request.header(.from), let to = response.header(.to) else { return nil }
        return build(method: "ACK", uri: uri, via: via.description, request: request,
                     from: from, to: to, callID: callID, cseq: cseq.number)
    }

    /// A CANCEL for the INVITE `request` we sent on a branch (RFC 3261 §9.1).
    static func cancel(for request: SIPMessage) -> [UInt8]? {
        guard let uri = request.requestURIText, let via = try? request.topVia(),
              let cseq = try? request.cseq(), let callID = request.callID,
              let from = request.header(.from), let to = request.header(.to) else { return nil }
        return build(method: "CANCEL", uri: uri, via: via.description, request: request,
                     from: from, to: to, callID: callID, cseq: cseq.number)
    }

    private static func build(method: String, uri: String, via: String, request: SIPMessage,
                              from: String, to: String, callID: String, cseq: UInt32) -> [UInt8] {
        var text = "\(method) \(uri) SIP/2.0\r\nVia: \(via)\r\n"
        for route in request.headerValues(.route) { text += "Route: \(route)\r\n" }
        text += "Max-Forwards: 70\r\nFrom: \(from)\r\nTo: \(to)\r\nCall-ID: \(callID)\r\n"
        text += "CSeq: \(cseq) \(method)\r\nContent-Length: 0\r\n\r\n"
        return Array(text.utf8)
    }

    /// Where responses to a request with this top Via go (RFC 3261 §18.2.2, RFC 3581 §4): a numeric
    /// `maddr`, else `received` (or the sent-by host when it is an IP literal), with the `rport` value
    /// (or the sent-by port, or 5060). Never looks a name up: the proxy stamps `received` with the
    /// source address whenever the sent-by host is not that address, so a request's Via always carries
    /// a literal; without one the reply goes to `source` (nil for a response: no address).
    static func responseAddress(for via: Via, source: SocketAddress?) -> SocketAddress? {
        let sentByPort = via.port ?? 5060
        if let maddr = via.maddr, let address = NextHop.literal(maddr, port: sentByPort) { return address }
        let port: UInt16
        switch via.rport {
        case .value(let p): port = p
        default: port = sentByPort
        }
        if let received = via.received, let address = NextHop.literal(received, port: port) { return address }
        if let address = NextHop.literal(via.host, port: port) { return address }
        return source.map { $0.withPort(port) }
    }
}
