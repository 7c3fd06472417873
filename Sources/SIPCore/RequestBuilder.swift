/// Building the requests a stateful proxy generates itself: CANCEL (RFC 3261 §9.1) and the ACK
/// for a non-2xx final response (RFC 3261 §17.1.1.3).
extension SIPMessage {
    /// CANCEL for a request this element sent (`request` as forwarded, edits included):
    /// same Request-URI, top Via only, Route set, From, To, Call-ID, CSeq number with CANCEL.
    /// Nil for responses or when a mandatory header is missing.
    public static func makeCancel(for request: SIPMessage) -> [UInt8]? {
        buildInDialogRequest(.cancel, request: request, toSource: request)
    }

    /// ACK for a non-2xx final `response` to an INVITE `request` this element sent: like CANCEL
    /// but the To header (with its tag) is taken from the response.
    public static func makeAck(for request: SIPMessage, response: SIPMessage) -> [UInt8]? {
        buildInDialogRequest(.ack, request: request, toSource: response)
    }

    private static func buildInDialogRequest(_ method: SIPMethod, request: SIPMessage, toSource: SIPMessage) -> [UInt8]? {
        guard let ruri = request.requestURIText,
              let viaIndex = request.firstFieldIndex(.via),
              let cseq = try? request.cseq(),
              let from = request.firstFieldIndex(.from),
              let to = toSource.firstFieldIndex(.to),
              let callID = request.firstFieldIndex(.callID)
        else { return nil }
        let viaValue = request.valueBytes(request.fields[viaIndex])
        guard let topVia = firstTopLevel(viaValue) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: "\(method.name) \(ruri) SIP/2.0\r\nVia: ".utf8)
        out.append(contentsOf: viaValue[topVia])
        out.append(contentsOf: "\r\n".utf8)
        for i in request.fieldIndices(.route) {
            out.append(contentsOf: "Route: ".utf8)
            out.append(contentsOf: request.valueBytes(request.fields[i]))
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Max-Forwards: 70\r\nFrom: ".utf8)
        out.append(contentsOf: request.valueBytes(request.fields[from]))
        out.append(contentsOf: "\r\nTo: ".utf8)
        out.append(contentsOf: toSource.valueBytes(toSource.fields[to]))
        out.append(contentsOf: "\r\nCall-ID: ".utf8)
        out.append(contentsOf: request.valueBytes(request.fields[callID]))
        out.append(contentsOf: "\r\nCSeq: \(cseq.number) \(method.name)\r\nContent-Length: 0\r\n\r\n".utf8)
        return out
    }
}
