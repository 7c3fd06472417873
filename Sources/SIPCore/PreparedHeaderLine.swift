/// A header line `Name: value` built once and added to many messages (the Record-Route of a listen
/// socket, ``SIPMessage/prependHeader(_:)-(PreparedHeaderLine)``): a message with no added line yet
/// keeps a reference to these bytes rather than a copy of them (issue 19: memory per suspended
/// transaction).
public struct PreparedHeaderLine: Sendable {
    /// The header's name.
    public let name: HeaderName
    /// The line's value.
    public let value: String
    /// `Name: value`, as ``SIPMessage/prependHeader(_:_:)-(HeaderName,String)`` writes it.
    let bytes: [UInt8]
    /// Offsets in `bytes`: end of the name, start of the value.
    let nameEnd: Int
    let valueStart: Int

    /// The line `name: value` (the name in its canonical spelling).
    public init(_ name: HeaderName, _ value: String) {
        self.name = name
        self.value = value
        var bytes = Array(name.canonicalName.utf8)
        nameEnd = bytes.count
        bytes.append(ASCII.colon)
        bytes.append(ASCII.sp)
        valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        self.bytes = bytes
    }
}
