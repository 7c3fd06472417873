/// Small conveniences for the proxy core and logging.
extension SIPMessage {
    /// Parses a datagram straight from a receive buffer (copies it once into the message).
    public init(parsing buffer: UnsafeRawBufferPointer, maxSize: Int = SIPMessage.defaultMaxSize) throws(SIPParseError) {
        try self.init(parsing: Array(buffer), maxSize: maxSize)
    }

    /// The datagram as received (edits are not applied; see `serialize()`).
    public var originalBytes: [UInt8] { bytes }

    /// Decrements Max-Forwards (RFC 3261 §16.6 step 3), or adds `Max-Forwards: initial` when
    /// absent. Returns the new value. Throws
    /// `badMaxForwards` if the present value is malformed; the caller answers 483 when the
    /// current value is 0 (check `maxForwards()` first).
    @discardableResult
    public mutating func decrementMaxForwards(initial: Int = 70) throws(SIPParseError) -> Int {
        guard let current = try maxForwards() else {
            appendHeader(.maxForwards, String(initial))
            return initial
        }
        let next = max(0, current - 1)
        setHeader(.maxForwards, String(next))
        return next
    }
}

extension SIPMessage: CustomStringConvertible {
    /// The serialized message as text (for logs and tests).
    public var description: String { String(decoding: serialize(), as: UTF8.self) }
}
