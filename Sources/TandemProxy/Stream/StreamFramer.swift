/// Cuts the byte stream of one connection into SIP messages (RFC 3261 §18.3): a message ends
/// `Content-Length` bytes after its blank line, and the header is mandatory on a stream. Between
/// messages a CRLFCRLF is a keep-alive ping (RFC 5626 §3.5.1) and a lone CRLF its pong.
///
/// Pure bytes, no I/O: the connection appends what it read and takes events until ``next()`` returns
/// nil (more bytes needed). A framing error is final: the connection answers 400 when it can and closes.
struct StreamFramer {
    /// One thing found in the stream.
    enum Event: Equatable {
        /// A complete message (start line, headers, body), ready for the SIP parser.
        case message([UInt8])
        /// A CRLFCRLF ping: answer with one CRLF.
        case ping
        /// A lone CRLF (a pong, or padding): nothing to do.
        case pong
    }

    /// Why the stream cannot be framed any more.
    enum Failure: Error, Equatable {
        /// The header block has no Content-Length (400, then close).
        case missingContentLength
        /// Content-Length is not a number (400, then close).
        case badContentLength
        /// The message (or its header block so far) is larger than the limit.
        case tooLarge
        /// Bytes that cannot start a SIP message (close).
        case garbage

        /// The reason phrase of the 400 sent before closing (nil: no reply).
        var replyReason: String? {
            switch self {
            case .missingContentLength: return "Bad Request (Content-Length required on streams)"
            case .badContentLength: return "Bad Request (bad Content-Length)"
            case .tooLarge: return "Message Too Large"
            case .garbage: return nil
            }
        }
    }

    /// Largest message accepted (headers and body).
    let maxMessageSize: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already handed out.
    private var start = 0
    /// Where the search for the blank line resumes (relative to `start`).
    private var scanned = 0

    init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// True when part of a message is buffered (the header read timeout runs).
    var hasPartialMessage: Bool {
        var index = start
        while index + 1 < buffer.count, buffer[index] == 13, buffer[index + 1] == 10 { index += 2 }
        return index < buffer.count && !(index + 1 == buffer.count && buffer[index] == 13)
    }

    /// The bytes buffered and not yet framed (for the 400 of a framing error).
    var pendingBytes: [UInt8] { Array(buffer[start...]) }

    /// Number of bytes buffered and not yet framed.
    var bufferedCount: Int { buffer.count - start }

    /// Adds bytes read from the connection.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes (tests).
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next event, nil when more bytes are needed; throws once the stream cannot be framed.
    mutating func next() throws(Failure) -> Event? {
        let available = buffer.count - start
        guard available > 0 else { return nil }
        if buffer[start] == 13 {
            // CRLF between messages: CRLFCRLF is a ping, a lone CRLF a pong.
            guard available >= 2 else { return nil }
            guard buffer[start + 1] == 10 else { throw .garbage }
            if available >= 4, buffer[start + 2] == 13, buffer[start + 3] == 10 {
                consume(4)
                return .ping
            }
            if available == 2 || (available == 3 && buffer[start + 2] == 13) { return nil }
            consume(2)
            return .pong
        }
        // A request starts with a method token, a response with "SIP/2.0": both uppercase letters.
        let first = buffer[start]
        guard first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") else { throw .garbage }
        guard let headerEnd = blankLine() else {
            if available > maxMessageSize { throw .tooLarge }
            return nil
        }
        let length = try contentLength(headerEnd: headerEnd)
        let total = headerEnd + length
        guard total <= maxMessageSize else { throw .tooLarge }
        guard available >= total else { return nil }
        let message = Array(buffer[start..<(start + total)])
        consume(total)
        return .message(message)
    }

    private mutating func consume(_ count: Int) {
        start += count
        scanned = 0
    }

    /// The length of the header block including its blank line, if it is complete.
    private mutating func blankLine() -> Int? {
        let end = buffer.count
        var index = start + max(0, scanned - 3)
        while index + 3 < end {
            if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 {
                return index + 4 - start
            }
            index += 1
        }
        scanned = end - start
        return nil
    }

    /// The Content-Length (or compact `l`) of the header block `buffer[start..<start+headerEnd]`.
    private func contentLength(headerEnd: Int) throws(Failure) -> Int {
        let end = start + headerEnd
        var line = start
        // Skip the start line.
        while line < end, buffer[line] != 10 { line += 1 }
        line += 1
        var found: Int?
        while line < end {
            var lineEnd = line
            while lineEnd < end, buffer[lineEnd] != 10 { lineEnd += 1 }
            if let value = contentLengthValue(line, lineEnd) {
                guard let number = value else { throw .badContentLength }
                if let found, found != number { throw .badContentLength }
                found = number
            }
            line = lineEnd + 1
        }
        guard let found else { throw .missingContentLength }
        return found
    }

    /// nil if the line is another header; `.some(nil)` for a Content-Length that is not a number.
    private func contentLengthValue(_ from: Int, _ to: Int) -> Int?? {
        var index = from
        var nameEnd = from
        while nameEnd < to, buffer[nameEnd] != UInt8(ascii: ":"), buffer[nameEnd] != 32, buffer[nameEnd] != 9 {
            nameEnd += 1
        }
        let nameLength = nameEnd - from
        let long = "content-length".utf8
        if nameLength == 1 {
            guard buffer[from] | 0x20 == UInt8(ascii: "l") else { return nil }
        } else if nameLength == long.count {
            var i = from
            for expected in long {
                guard buffer[i] | 0x20 == expected || (expected == UInt8(ascii: "-") && buffer[i] == expected) else {
                    return nil
                }
                i += 1
            }
        } else {
            return nil
        }
        index = nameEnd
        while index < to, buffer[index] == 32 || buffer[index] == 9 { index += 1 }
        guard index < to, buffer[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        while index < to, buffer[index] == 32 || buffer[index] == 9 { index += 1 }
        var value = 0
        var digits = 0
        while index < to, buffer[index] >= 48, buffer[index] <= 57 {
            value = value &* 10 &+ Int(buffer[index] - 48)
            digits += 1
            guard digits <= 9 else { return .some(nil) }
            index += 1
        }
        while index < to, buffer[index] == 32 || buffer[index] == 9 || buffer[index] == 13 { index += 1 }
        guard digits > 0, index == to else { return .some(nil) }
        return .some(value)
    }
}
