import TandemScript

/// The database work of one registrar call in a usrloc database mode, computed when the call is made
/// (from the request and the memory) and carried to the engine in the call's last value (a host
/// function's operation sees only its argument values): a write before `save` replies, or a read
/// before `lookup`/`is_registered` answers.
struct UsrlocPlan: Equatable {
    /// `write`: a statement changing rows; `writeRead`: one that also returns the AOR's rows after it
    /// (sql-only); `read`: the AOR's rows.
    enum Kind: String { case write, writeRead, read }

    var kind: Kind
    /// The AOR key.
    var aor: String
    var sql: String
    var parameters: [String?]

    /// The position of the plan among the call's values (after the three declared arguments).
    static let index = 3

    private static let separator: Character = "\u{1F}"
    private static let null = "\u{1E}"

    var value: ScriptValue {
        let fields = [kind.rawValue, aor, sql] + parameters.map { $0 ?? Self.null }
        return .string(fields.joined(separator: String(Self.separator)))
    }

    init(kind: Kind, aor: String, sql: String, parameters: [String?]) {
        self.kind = kind
        self.aor = aor
        self.sql = sql
        self.parameters = parameters
    }

    /// The plan a call carries, nil when it needs no database work.
    init?(_ values: [ScriptValue]) {
        guard Self.index < values.count, case .string(let text) = values[Self.index] else { return nil }
        let fields = Self.fields(of: text, limit: Int.max)
        guard fields.count >= 3, let kind = Kind(rawValue: fields[0]) else { return nil }
        self.kind = kind
        aor = fields[1]
        sql = fields[2]
        parameters = fields.dropFirst(3).map { $0 == Self.null ? nil : $0 }
    }

    /// The kind and AOR of the plan a call carries, without the statement and its parameters (what the
    /// deliver step of `save` needs).
    static func head(_ values: [ScriptValue]) -> (kind: Kind, aor: String)? {
        guard index < values.count, case .string(let text) = values[index] else { return nil }
        let fields = fields(of: text, limit: 3)
        guard fields.count >= 3, let kind = Kind(rawValue: fields[0]) else { return nil }
        return (kind, fields[1])
    }

    /// The fields of a plan's text, split on the separator byte, at most `limit` (the last one then
    /// holds the rest). Walks the UTF-8 view: a Character split walks grapheme clusters, and the
    /// generic byte split calls a closure per byte (a measurable cost per REGISTER: the text holds the
    /// whole statement).
    private static func fields(of text: String, limit: Int) -> [String] {
        var fields: [String] = []
        let bytes = Array(text.utf8)
        var start = 0
        var i = 0
        while i < bytes.count, fields.count < limit - 1 {
            if bytes[i] == 0x1F {
                fields.append(String(decoding: bytes[start..<i], as: UTF8.self))
                start = i + 1
            }
            i += 1
        }
        fields.append(String(decoding: bytes[start...], as: UTF8.self))
        return fields
    }
}
