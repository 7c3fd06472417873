/// Rebuilding wire bytes from the (possibly edited) message.
extension SIPMessage {
    private static let crlf: [UInt8] = [ASCII.cr, ASCII.lf]
    private static let colonSP: [UInt8] = [ASCII.colon, ASCII.sp]
    private static let version: [UInt8] = Array(" SIP/2.0".utf8)
    private static let contentLengthLine: [UInt8] = Array("Content-Length: ".utf8)

    /// Serializes the message (CRLF line ends, Content-Length recomputed from the body).
    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        serialize(into: &out)
        return out
    }

    /// Appends the serialized message to `out`.
    public func serialize(into out: inout [UInt8]) {
        let bodyCount = contentLength
        out.reserveCapacity(out.count + startLineRange.count + (bodyRange.lowerBound - startLineRange.upperBound) + 128 + bodyCount)
        if let u = newRequestURI, case .request(let m, _) = start {
            out.append(contentsOf: m.name.utf8)
            out.append(ASCII.sp)
            out.append(contentsOf: u)
            out.append(contentsOf: SIPMessage.version)
        } else {
            out.append(contentsOf: bytes[startLineRange])
        }
        out.append(contentsOf: SIPMessage.crlf)
        let clDigits = Array(String(bodyCount).utf8)
        var wroteCL = false
        for f in fields {
            if f.code == SIPMessage.contentLengthCode {
                if wroteCL { continue }
                wroteCL = true
                if !f.isOwned, !f.edited, bytes[f.valueStart..<f.valueEnd].elementsEqual(clDigits) {
                    out.append(contentsOf: bytes[f.lineStart..<f.valueEnd])
                } else {
                    out.append(contentsOf: nameBytes(f))
                    out.append(contentsOf: SIPMessage.colonSP)
                    out.append(contentsOf: clDigits)
                }
            } else if f.isOwned {
                out.append(contentsOf: ownedLine(f))
            } else if f.edited {
                out.append(contentsOf: bytes[f.lineStart..<f.nameEnd])
                out.append(contentsOf: SIPMessage.colonSP)
                out.append(contentsOf: bytes[f.valueStart..<f.valueEnd])
            } else {
                out.append(contentsOf: bytes[f.lineStart..<f.valueEnd])
            }
            out.append(contentsOf: SIPMessage.crlf)
        }
        if !wroteCL {
            out.append(contentsOf: SIPMessage.contentLengthLine)
            out.append(contentsOf: clDigits)
            out.append(contentsOf: SIPMessage.crlf)
        }
        out.append(contentsOf: SIPMessage.crlf)
        if let b = newBody { out.append(contentsOf: b) } else { out.append(contentsOf: bytes[bodyRange]) }
    }
}
