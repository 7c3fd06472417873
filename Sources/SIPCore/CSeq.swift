/// The CSeq header: sequence number and method (RFC 3261 §20.16).
public struct CSeq: Sendable, Hashable, CustomStringConvertible {
    /// Sequence number; RFC 3261 §8.1.1.5 requires it to be below 2^31.
    public var number: UInt32
    public var method: SIPMethod

    public init(number: UInt32, method: SIPMethod) {
        self.number = number
        self.method = method
    }

    /// Parses `1*DIGIT LWS Method`.
    public init(parsing text: String) throws(SIPParseError) {
        try self.init(parsing: Array(text.utf8)[...])
    }

    init(parsing v: ArraySlice<UInt8>) throws(SIPParseError) {
        var i = v.startIndex
        skipSpace(v, &i)
        let ns = i
        while i < v.endIndex, isDigit(v[i]) { i += 1 }
        guard i > ns, let n = v.parseDecimal(ns..<i), n < (1 << 31) else { throw SIPParseError(.badCSeq) }
        let ne = i
        skipSpace(v, &i)
        guard i > ne else { throw SIPParseError(.badCSeq) }
        let ms = i
        while i < v.endIndex, !isLWSByte(v[i]) { i += 1 }
        let me = i
        skipSpace(v, &i)
        guard i == v.endIndex, let m = SIPMethod(bytes: v, ms..<me) else { throw SIPParseError(.badCSeq) }
        number = UInt32(n)
        method = m
    }

    public var description: String { "\(number) \(method.name)" }
}
