/// JSON helpers for building MongoDB command documents from script values.
///
/// The script binding substitutes pseudo-variable values into a JSON template; every value must go
/// through ``escape(_:)`` (inside quotes) so it stays one string and cannot add keys or operators.
public enum MongoJSON {
    /// Escapes `value` for use between double quotes in JSON: `"` and `\` are backslash-escaped,
    /// control characters (U+0000–U+001F, U+007F) become `\uXXXX` (`\n`, `\r`, `\t`, `\b`, `\f` short forms).
    /// Everything else (including non-ASCII) is kept as UTF-8.
    public static func escape(_ value: String) -> String {
        var needs = false
        for byte in value.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F {
            needs = true
            break
        }
        if !needs { return value }
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            switch byte {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0..<0x20, 0x7F:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` as a complete JSON string literal (escaped and quoted).
    public static func quote(_ value: String) -> String { "\"" + escape(value) + "\"" }
}
