/// The `csv.*` transformations over comma-separated values.
enum CSVTransformations {
    static func fields(_ v: ScriptValue) -> [ArraySlice<UInt8>] {
        let b = Array(StringTransformations.text(v).utf8)
        guard !b.isEmpty else { return [] }
        return b.split(separator: 44, omittingEmptySubsequences: false)
    }

    static let all: [String: TransformDefinition] = [
        "csv.count": TransformDefinition { v, _ in .int(fields(v).count) },
        "csv.value": TransformDefinition(args: 1...1) { c in
            if let e = Transformations.requireInts(c, [0]) { return .failure(e) }
            return .success { v, a in
                let f = fields(v)
                let i = Transformations.int(a[0]) ?? 0
                let k = i >= 0 ? i : f.count + i
                return k >= 0 && k < f.count ? .string(String(decoding: f[k], as: UTF8.self)) : .null
            }
        },
    ]
}
