/// A statement compiled by the script (`$1…$n` placeholders for its pseudo-variables, see
/// `ArgKind.query`) in MySQL's form: each placeholder outside quotes becomes `?`, and
/// ``parameterOrder`` says which value binds to each `?` (a value used twice binds twice).
///
/// ```swift
/// let s = MySQLStatementText("SELECT a FROM t WHERE u = $1 AND d = $2 OR x = $1")
/// // s.sql == "SELECT a FROM t WHERE u = ? AND d = ? OR x = ?", s.parameterOrder == [0, 1, 0]
/// ```
public struct MySQLStatementText: Sendable, Equatable {
    /// The SQL with `?` markers.
    public let sql: String
    /// For each `?`, the 0-based index of its value.
    public let parameterOrder: [Int]

    /// Rewrites `template`. `$n` inside '…', "…" or `…` is left as it is.
    public init(_ template: String) {
        var out: [UInt8] = []
        var order: [Int] = []
        let bytes = Array(template.utf8)
        out.reserveCapacity(bytes.count)
        var quote: UInt8?
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                out.append(byte)
                if byte == UInt8(ascii: "\\") && open != UInt8(ascii: "`") && index + 1 < bytes.count {
                    out.append(bytes[index + 1])
                    index += 2
                    continue
                }
                if byte == open { quote = nil }  // a doubled quote closes and reopens: same result
                index += 1
                continue
            }
            if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "`") {
                quote = byte
                out.append(byte)
                index += 1
                continue
            }
            if byte == UInt8(ascii: "$"), index + 1 < bytes.count, Self.isDigit(bytes[index + 1]) {
                var end = index + 1
                var number = 0
                while end < bytes.count, Self.isDigit(bytes[end]), number < 100_000 {
                    number = number * 10 + Int(bytes[end] - UInt8(ascii: "0"))
                    end += 1
                }
                if number >= 1 {
                    out.append(UInt8(ascii: "?"))
                    order.append(number - 1)
                    index = end
                    continue
                }
            }
            out.append(byte)
            index += 1
        }
        sql = String(decoding: out, as: UTF8.self)
        parameterOrder = order
    }

    /// The values in `?` order (`nil` for a missing value: SQL NULL).
    public func arrange(_ values: [String?]) -> [String?] {
        parameterOrder.map { $0 < values.count ? values[$0] : nil }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
