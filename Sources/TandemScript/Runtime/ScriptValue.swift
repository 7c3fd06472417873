/// A script value: OpenSIPS variables hold nothing (NULL), an integer or a string.
public enum ScriptValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case int(Int)
    case string(String)

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// Integer reading: strings are parsed (leading sign allowed), unparsable strings and NULL give nil.
    public var intValue: Int? {
        switch self {
        case .null: return nil
        case .int(let v): return v
        case .string(let s): return Int(s)
        }
    }

    /// String reading: ints are printed in decimal, NULL gives `<null>` as in OpenSIPS xlog.
    public var stringValue: String {
        switch self {
        case .null: return "<null>"
        case .int(let v): return String(v)
        case .string(let s): return s
        }
    }

    /// Truth of a value used directly as a condition: NULL and 0 and "" are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .int(let v): return v != 0
        case .string(let s): return !s.isEmpty
        }
    }

    public var description: String { stringValue }
}
