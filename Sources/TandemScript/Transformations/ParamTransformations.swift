/// The `param.*` transformations over `name=value;name2=value2` lists (an optional last
/// parameter gives another one-character separator).
enum ParamTransformations {
    private static func separator(_ a: [ScriptValue], _ at: Int) -> UInt8 {
        guard at < a.count, let c = StringTransformations.text(a[at]).utf8.first else { return 59 }
        return c
    }

    /// `param.value`: the value of parameter `key` in the list `v` (read in place), NULL if absent.
    static func value(_ v: ScriptValue, _ key: [UInt8], _ separator: UInt8) -> ScriptValue {
        StringTransformations.withBytes(v) { buf in
            ParamList.valueRange(buf, key, separator: separator)
                .map { .string(String(decoding: UnsafeBufferPointer(rebasing: buf[$0]), as: UTF8.self)) } ?? .null
        }
    }

    static let all: [String: TransformDefinition] = [
        "param.value": TransformDefinition(args: 1...2) { c in
            // A constant name is turned into bytes once; the list is read in place.
            let constantKey = c[0].map { Array($0.stringValue.utf8) }
            return .success { v, a in
                value(v, constantKey ?? Array(StringTransformations.text(a[0]).utf8), separator(a, 1))
            }
        },
        "param.exist": TransformDefinition(args: 1...2) { v, a in
            .int(ParamList.value(StringTransformations.text(v), StringTransformations.text(a[0]), separator: separator(a, 1)) == nil ? 0 : 1)
        },
        "param.valueat": TransformDefinition(args: 1...2) { c in
            if let e = Transformations.requireInts(c, [0]) { return .failure(e) }
            return .success { v, a in
                let items = ParamList.items(StringTransformations.text(v), separator: separator(a, 1))
                let i = Transformations.int(a[0]) ?? 0
                let k = i >= 0 ? i : items.count + i
                return k >= 0 && k < items.count ? .string(items[k].value) : .null
            }
        },
        "param.name": TransformDefinition(args: 1...2) { c in
            if let e = Transformations.requireInts(c, [0]) { return .failure(e) }
            return .success { v, a in
                let items = ParamList.items(StringTransformations.text(v), separator: separator(a, 1))
                let i = Transformations.int(a[0]) ?? 0
                let k = i >= 0 ? i : items.count + i
                return k >= 0 && k < items.count ? .string(items[k].name) : .null
            }
        },
        "param.count": TransformDefinition(args: 0...1) { v, a in
            .int(ParamList.items(StringTransformations.text(v), separator: separator(a, 0)).count)
        },
    ]
}
