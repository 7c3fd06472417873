/// Rebuilding wire bytes from the (possibly edited) message.
extension SIPMessage {
    static let crlf: [UInt8] = [ASCII.cr, ASCII.lf]
    static let colonSP: [UInt8] = [ASCII.colon, ASCII.sp]
    private static let version: [UInt8] = Array(" SIP/2.0".utf8)
    static let contentLengthLine: [UInt8] = Array("Content-Length: ".utf8)

    /// Serializes the message (CRLF line ends, Content-Length recomputed from the body).
    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        serialize(into: &out)
        return out
    }

    /// `serialize()` of this message after `dropFirstValue(.via)`, without that edit: the header index is
    /// not copied for it (a proxy forwards every reply without its top Via).
    public func serializedWithoutTopVia() -> [UInt8] {
        var out: [UInt8] = []
        serialize(into: &out, droppingTopVia: true)
        return out
    }

    /// Appends the serialized message to `out`.
    public func serialize(into out: inout [UInt8]) {
        serialize(into: &out, droppingTopVia: false)
    }

    /// ``serialize(into:)``; with `droppingTopVia`, the lines are written as `dropFirstValue(.via)` leaves
    /// them: blank Via lines before the first value are left out, the line of the first value without it
    /// (left out when it has no other).
    private func serialize(into out: inout [UInt8], droppingTopVia: Bool) {
        let bodyCount = contentLength
        var viaToDrop = droppingTopVia
        let viaCode = HeaderName.via.code
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
        var wroteCL = false
        for f in fields {
            if viaToDrop, f.code == viaCode {
                let v = valueBytes(f)
                // A blank line has no first value (`firstTopLevel(v) == nil`); this test does not scan
                // the line for a comma a second time.
                guard !v.trimmedRange(v.startIndex..<v.endIndex).isEmpty else { continue }
                viaToDrop = false
                guard let second = secondTopLevelStart(v) else { continue }
                out.append(contentsOf: nameBytes(f))
                out.append(contentsOf: SIPMessage.colonSP)
                out.append(contentsOf: v[second...])
                out.append(contentsOf: SIPMessage.crlf)
                continue
            }
            if f.code == SIPMessage.contentLengthCode {
                if wroteCL { continue }
                wroteCL = true
                if !f.isOwned, !f.edited, Self.isDecimal(bytes[f.valueStart..<f.valueEnd], bodyCount) {
                    out.append(contentsOf: bytes[f.lineStart..<f.valueEnd])
                } else {
                    out.append(contentsOf: nameBytes(f))
                    out.append(contentsOf: SIPMessage.colonSP)
                    Self.appendDecimal(bodyCount, to: &out)
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
            Self.appendDecimal(bodyCount, to: &out)
            out.append(contentsOf: SIPMessage.crlf)
        }
        out.append(contentsOf: SIPMessage.crlf)
        if let b = newBody { out.append(contentsOf: b) } else { out.append(contentsOf: bytes[bodyRange]) }
    }

    /// True when `v` is exactly `String(n)` (digits, no sign, no leading zero), without making that text.
    static func isDecimal(_ v: ArraySlice<UInt8>, _ n: Int) -> Bool {
        guard n >= 0, !v.isEmpty, v.count <= 18, v.count == 1 || v.first != 48 else { return false }
        var value = 0
        for b in v {
            guard isDigit(b) else { return false }
            value = value * 10 + Int(b - 48)
        }
        return value == n
    }

    /// Appends `String(n)` for `n >= 0` (a Content-Length) to `out` without making the text.
    static func appendDecimal(_ n: Int, to out: inout [UInt8]) {
        precondition(n >= 0)
        var divisor = 1
        while divisor <= n / 10 { divisor *= 10 }
        var rest = n
        while divisor > 0 {
            out.append(UInt8(48 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
