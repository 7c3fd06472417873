/// One parameter of a transformation as written: literal text or a pseudo-variable read at run time.
enum TransformArgument: Sendable {
    case literal(String)
    case pv(PVSpec)
}

/// A parsed transformation (`{s.substr,1,2}` → name `s.substr`, two arguments).
struct TransformationSpec: Sendable {
    var name: String
    var arguments: [TransformArgument]
    /// The text between the braces.
    var text: String
}

/// The function a transformation applies: input value and evaluated arguments to the result.
/// Failures give `.null` (OpenSIPS makes the whole variable read fail).
typealias TransformImpl = @Sendable (ScriptValue, [ScriptValue]) -> ScriptValue

/// A transformation Tandem knows: its arity and a builder that sees the constant arguments
/// (nil where an argument is a pseudo-variable) once, at compile time, and may reject them.
struct TransformDefinition: Sendable {
    var minArgs: Int
    var maxArgs: Int
    var make: @Sendable ([ScriptValue?]) -> Result<TransformImpl, TransformError>
    /// Set for a transformation without parameters that only picks a part of its input.
    var picker: PartPicker?

    /// A part-picking transformation (see ``PartPicker``).
    init(picker: PartPicker) {
        self.init { v, _ in Transformations.slice(v, picker) }
        self.picker = picker
    }

    init(args: ClosedRange<Int> = 0...0,
         make: @escaping @Sendable ([ScriptValue?]) -> Result<TransformImpl, TransformError>) {
        minArgs = args.lowerBound
        maxArgs = args.upperBound
        self.make = make
    }

    /// A transformation whose implementation does not depend on compile-time checks.
    init(args: ClosedRange<Int> = 0...0, _ impl: @escaping TransformImpl) {
        self.init(args: args) { _ in .success(impl) }
    }
}

/// Why a transformation is rejected (`tandem check` prints the message).
struct TransformError: Error, Sendable {
    var message: String
}

/// Parsing and lookup of transformations; the families live in one file each.
enum Transformations {
    /// `s.len`: length in bytes of the value's text (NULL reads as "").
    static func length(_ v: ScriptValue) -> ScriptValue {
        switch v {
        case .string(let s): return .int(s.utf8.count)
        case .int(let i): return .int(String(i).utf8.count)
        case .null: return .int(0)
        }
    }

    /// The part `picker` picks from `value`'s bytes, as a string; NULL when it picks none.
    static func slice(_ value: ScriptValue, _ picker: PartPicker) -> ScriptValue {
        StringTransformations.withBytes(value) { b in
            guard let r = picker.pick(b) else { return .null }
            return .string(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self))
        }
    }

    /// A chain of part-picking transformations in one pass: each picks from the part the previous one
    /// picked (from no bytes after one picked none, as a NULL input reads as ""); only the last part
    /// becomes a string.
    static func slice(_ value: ScriptValue, _ chain: [PartPicker]) -> ScriptValue {
        StringTransformations.withBytes(value) { b in
            var lo = 0, hi = b.count, isNull = false
            for picker in chain {
                if let r = picker.pick(UnsafeBufferPointer(rebasing: b[lo..<hi])) {
                    hi = lo + r.upperBound
                    lo += r.lowerBound
                    isNull = false
                } else {
                    lo = 0; hi = 0; isNull = true
                }
            }
            return isNull ? .null : .string(String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self))
        }
    }

    /// The picker of `spec` when it is a part-picking transformation written without parameters.
    static func picker(_ spec: TransformationSpec) -> PartPicker? {
        spec.arguments.isEmpty ? definitions[spec.name]?.picker : nil
    }

    static let definitions: [String: TransformDefinition] = {
        var d: [String: TransformDefinition] = [:]
        for family in [StringTransformations.all, URITransformations.all, ParamTransformations.all,
                       NameAddrTransformations.all, CSVTransformations.all, IPTransformations.all,
                       RegexTransformations.all, ViaTransformations.all] {
            d.merge(family) { a, _ in a }
        }
        return d
    }()

    /// OpenSIPS 3.6 transformations Tandem does not implement yet, and families it lacks entirely
    /// (reported plainly by the checker rather than as unknown).
    static let unsupportedNames: Set<String> = [
        "s.xor", "s.eval", "s.sha224", "s.sha384", "s.sha512", "s.sha1_hmac", "s.sha224_hmac", "s.sha256_hmac",
        "s.sha384_hmac", "s.sha512_hmac", "ip.pton", "ip.ntop", "ip.resolve",
    ]
    static let unsupportedFamilies: Set<String> = ["sdp"]

    /// Splits `name,arg1,arg2` (spaces around arguments ignored). The last argument takes the rest
    /// of the text, so `{s.select,1,,}` selects on ','.
    static func parse(_ text: String) -> Result<TransformationSpec, TransformError> {
        // Only the name is trimmed: a trailing space can be an argument (`{s.select,0, }`).
        let trimmed = Substring(text).drop { $0 == " " || $0 == "\t" }
        guard let comma = trimmed.firstIndex(of: ",") else {
            return .success(TransformationSpec(name: String(trimmed).trimmingSpaces(), arguments: [], text: text))
        }
        let name = String(trimmed[..<comma]).trimmingSpaces()
        let maxArgs = definitions[name]?.maxArgs ?? Int.max
        var rest = Substring(trimmed[trimmed.index(after: comma)...])
        var raw: [Substring] = []
        while raw.count + 1 < maxArgs, let c = rest.firstIndex(of: ",") {
            raw.append(rest[..<c])
            rest = rest[rest.index(after: c)...]
        }
        raw.append(rest)
        var args: [TransformArgument] = []
        for r in raw {
            let t = String(r).trimmingSpaces()
            // A separator that is only spaces stays a space.
            let value = t.isEmpty && !r.isEmpty ? String(r) : t
            if value.hasPrefix("$"), let spec = PVSyntax.parse(String(value.dropFirst())) {
                args.append(.pv(spec))
            } else {
                args.append(.literal(value))
            }
        }
        return .success(TransformationSpec(name: name, arguments: args, text: text))
    }

    /// Looks a transformation up and builds it against its constant arguments.
    static func build(_ spec: TransformationSpec) -> Result<TransformImpl, TransformError> {
        guard let def = definitions[spec.name] else {
            let family = spec.name.split(separator: ".").first.map(String.init) ?? spec.name
            if unsupportedNames.contains(spec.name) || unsupportedFamilies.contains(family) {
                return .failure(TransformError(message: "transformation '{\(spec.text)}' is OpenSIPS 3.6 syntax that Tandem does not support yet"))
            }
            return .failure(TransformError(message: "unknown transformation '{\(spec.text)}'"))
        }
        guard spec.arguments.count >= def.minArgs && spec.arguments.count <= def.maxArgs else {
            let expected = def.minArgs == def.maxArgs ? "\(def.minArgs)" : "\(def.minArgs) to \(def.maxArgs)"
            return .failure(TransformError(message: "transformation '{\(spec.name)}' expects \(expected) parameter\(def.maxArgs == 1 ? "" : "s"), got \(spec.arguments.count)"))
        }
        let constants: [ScriptValue?] = spec.arguments.map {
            if case .literal(let s) = $0 { return .string(s) }
            return nil
        }
        return def.make(constants).mapError { TransformError(message: "'{\(spec.text)}': \($0.message)") }
    }

    /// Parses and builds; for the checker.
    static func validate(_ text: String) -> TransformError? {
        switch parse(text) {
        case .failure(let e): return e
        case .success(let spec):
            if case .failure(let e) = build(spec) { return e }
            return nil
        }
    }

    /// Integer reading of an argument (`nil` when it is not an integer).
    static func int(_ v: ScriptValue?) -> Int? {
        guard let v else { return nil }
        if case .int(let i) = v { return i }
        return Int(v.stringValue.trimmingSpaces())
    }

    /// Rejects a constant argument that is not an integer.
    static func requireInts(_ constants: [ScriptValue?], _ positions: [Int]) -> TransformError? {
        for p in positions where p < constants.count {
            if let c = constants[p], int(c) == nil {
                return TransformError(message: "parameter \(p + 1) must be an integer, got '\(c.stringValue)'")
            }
        }
        return nil
    }
}
